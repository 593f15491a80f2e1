"""The catalogue of diagnostic codes: stable identifiers, default severities, explanations.

Codes never change meaning once published; retired codes are not reused. The letter names
the stage that finds the problem (Y yaml, S structure, X expressions, T templates,
K skills, D data queries, M memories, C suppression comments); severity is separate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    name: str
    severity: Severity
    summary: str


_E = Severity.ERROR
_W = Severity.WARNING

CATALOGUE: dict[str, Code] = {
    c.code: c
    for c in (
        Code("Y001", "yaml-syntax", _E, "The file is not valid YAML."),
        Code("Y002", "duplicate-key", _E, "A mapping defines the same key twice."),
        Code("Y003", "tab-indentation", _E, "A tab character is used for indentation."),
        Code("Y004", "too-many-aliases", _E, "The file uses more YAML aliases than allowed."),
        Code("Y005", "file-too-large", _E, "The file is larger than a playbook may be."),
        Code("Y006", "not-a-mapping", _E, "The document is empty or not a mapping."),
        Code("Y007", "unsupported-yaml", _E, "A YAML feature playbooks do not support."),
        Code("Y008", "too-deeply-nested", _E, "Mappings and lists nest deeper than allowed."),
        Code("S101", "unknown-key", _E, "A key that this place does not accept."),
        Code("S102", "missing-key", _E, "A required key is absent."),
        Code("S103", "wrong-value-type", _E, "A value has the wrong YAML type."),
        Code("S104", "invalid-id", _E, "An identifier does not follow the naming rule."),
        Code("S105", "duplicate-step-id", _E, "Two steps share one id."),
        Code("S106", "missing-instruction", _E, "A step has no instruction key."),
        Code("S107", "several-instructions", _E, "A step has more than one instruction key."),
        Code("S108", "id-filename-mismatch", _E, "The playbook id differs from the file name."),
        Code("S109", "invalid-value", _E, "A value is outside the allowed set or range."),
        Code("S110", "expression-not-allowed", _E, "An expression where a fixed value is needed."),
        Code("S111", "invalid-type", _E, "A type name that does not exist or does not parse."),
        Code("X201", "expression-syntax", _E, "An expression does not parse."),
        Code("X202", "unknown-name", _E, "An expression starts from an unknown root."),
        Code("X203", "unknown-step", _E, "An expression names a step that does not exist."),
        Code("X204", "unknown-property", _E, "A property or input that does not exist."),
        Code("X205", "unknown-function", _E, "A call to a function that does not exist."),
        Code("X206", "self-reference", _E, "A step refers to its own output."),
        Code("X207", "forward-reference", _E, "A step refers to a step that runs later."),
        Code("X208", "wrong-arity", _E, "A function is called with the wrong argument count."),
        Code("X209", "type-mismatch", _E, "A value's type does not fit where it is used."),
        Code("X210", "condition-not-bool", _E, "An `if:` condition is not a bool."),
        Code("X211", "bad-choices", _E, "`choices:` is not a list of the answer's type."),
        Code("X212", "possibly-null", _W, "A value that may be null is used where one is needed."),
        Code("X213", "not-interpolatable", _E, "A list or record is interpolated into text."),
        Code("X214", "jinja-braces", _W, "`{{ x }}` without `$`: Jinja syntax kept as text."),
        Code("T301", "unknown-template", _E, "A generate step names a template that is absent."),
        Code("T302", "missing-template-input", _E, "A required template input is not supplied."),
        Code(
            "T303", "unknown-template-input", _E, "A supplied input the template does not declare."
        ),
        Code("T304", "undeclared-template-variable", _E, "A template uses an undeclared variable."),
        Code("T305", "template-header", _E, "A template's header is missing or invalid."),
        Code("T306", "template-syntax", _E, "A template is not valid Jinja."),
        Code("K401", "unknown-skill", _E, "A skill-invoke step names a skill that is absent."),
        Code("K402", "missing-skill-argument", _E, "A required skill argument is not supplied."),
        Code("K403", "unknown-skill-argument", _E, "A supplied argument the skill does not take."),
        Code("D501", "unknown-data-source", _E, "A data-query step names an unknown source."),
        Code(
            "D502",
            "missing-query-argument",
            _E,
            "An operation lacks the `tables` or `sql` it needs.",
        ),
        Code("D503", "unsafe-sql", _E, "Literal SQL that is not a single read-only query."),
        Code("D504", "unused-query-argument", _W, "An argument the operation ignores."),
        Code("M601", "unknown-memory-type", _E, "`remember:` names an unknown memory type."),
        Code("C701", "unknown-ignore-code", _W, "An ignore comment names an unknown code."),
        Code("C702", "unused-ignore", _W, "An ignore comment silences nothing."),
        Code(
            "C703",
            "ignored-error",
            _W,
            "An ignore comment names an error, which it cannot silence.",
        ),
    )
}
