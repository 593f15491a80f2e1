"""OAuth 2.1 as the MCP authorization specification has it: Codifier is the protected
resource (RFC 9728 metadata, bearer challenges) and its own authorization server
(RFC 8414 metadata, RFC 7591 registration, authorization code + PKCE S256 behind a
sign-in page that takes a Codifier key, refresh rotation, RFC 7009 revocation).

The SDK's auth kit (`mcp.server.auth`) does the token, registration and revocation
endpoints; this package supplies the storage behind them (provider.py), the sign-in page
(signin.py), the metadata documents (metadata.py) and the public address (issuer.py)."""
