"""Bounds on what a run asks of the client itself: forms and samples (codifier.server.native)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from codifier.config import whole_number

QUESTIONS_PER_CALL = "CODIFIER_NATIVE_QUESTIONS_PER_CALL"
FORM_SECONDS = "CODIFIER_NATIVE_FORM_SECONDS"
SAMPLING_MAX_TOKENS = "CODIFIER_NATIVE_SAMPLING_MAX_TOKENS"


@dataclass(frozen=True, slots=True)
class NativeSettings:
    # Requests (forms and samples) one run_playbook/advance_step call may make of the
    # client, a re-asked question included; then the call returns the explicit step
    # result. Under the SDK clients' own cap on input-required rounds (10 in the Python
    # and TypeScript SDKs). 0: never ask natively.
    questions_per_call: int = 8
    # How long a call on 2025-11-25 waits for the answer to one request it sent mid-call;
    # then the explicit step result, with a notice. (On 2026-07-28 nothing waits: the
    # client retries when it has the answer.)
    form_seconds: int = 600
    # The most tokens a generate step asks the client's model for (sampling's
    # maxTokens). 0: never sample; generate steps stay explicit.
    sampling_max_tokens: int = 8_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NativeSettings:
        """ValueError naming the setting when a value is not a whole number in range."""
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            questions_per_call=whole_number(
                env, QUESTIONS_PER_CALL, defaults.questions_per_call, minimum=0
            ),
            form_seconds=whole_number(env, FORM_SECONDS, defaults.form_seconds),
            sampling_max_tokens=whole_number(
                env, SAMPLING_MAX_TOKENS, defaults.sampling_max_tokens, minimum=0
            ),
        )
