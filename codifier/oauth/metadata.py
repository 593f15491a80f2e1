"""The two discovery documents: protected-resource metadata (RFC 9728) naming this server
as its own authorization server (and the external OIDC issuer, when one is set), and
authorization-server metadata (RFC 8414), built with the SDK's models for the issuer the
request reached."""

from __future__ import annotations

from typing import Any

from mcp.server.auth.routes import build_metadata
from mcp.server.auth.settings import ClientRegistrationOptions, RevocationOptions
from mcp.shared.auth import OAuthMetadata, ProtectedResourceMetadata
from pydantic import AnyHttpUrl

from codifier.oauth.issuer import Issuer


def resource_metadata(issuer: Issuer, external_issuer: str | None = None) -> dict[str, Any]:
    servers = [_url(issuer.base)]
    if external_issuer is not None:
        servers.append(_url(external_issuer))
    document = ProtectedResourceMetadata(
        resource=AnyHttpUrl(issuer.resource),
        authorization_servers=servers,
        resource_name="Codifier",
        bearer_methods_supported=["header"],
    )
    return document.model_dump(mode="json", exclude_none=True)


def server_metadata(issuer: Issuer, client_id_documents: bool) -> dict[str, Any]:
    built = build_metadata(
        _url(issuer.base),
        None,
        ClientRegistrationOptions(enabled=True),
        RevocationOptions(enabled=True),
    ).model_dump(mode="json", exclude_none=True)
    built.update(
        issuer=issuer.base,  # exactly as clients compare it (RFC 8414 §3.3, RFC 9207)
        # Public clients only (provider.py): PKCE, no client secret.
        token_endpoint_auth_methods_supported=["none"],
        revocation_endpoint_auth_methods_supported=["none"],
        code_challenge_methods_supported=["S256"],
        authorization_response_iss_parameter_supported=True,
        client_id_metadata_document_supported=client_id_documents,
    )
    return OAuthMetadata.model_validate(built).model_dump(mode="json", exclude_none=True)


def _url(value: str) -> AnyHttpUrl:
    # Validated inside a model with url_preserve_empty_path, so no "/" is appended.
    return ProtectedResourceMetadata.model_validate(
        {"resource": value, "authorization_servers": [value]}
    ).authorization_servers[0]
