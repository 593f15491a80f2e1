"""The sign-in page: plain HTML (no script), labelled fields, an error announced to
screen readers, and the headers that keep it out of frames, caches and referrers."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup
from starlette.responses import HTMLResponse

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;padding:2rem 1rem;line-height:1.5;"
    "color:#1a1a1a;background:#fafafa}main{max-width:32rem;margin:0 auto}"
    "label{display:block;font-weight:600;margin-top:1rem}"
    "input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;"
    "border:1px solid #555;border-radius:4px}"
    "input:focus,button:focus{outline:3px solid #1d4ed8;outline-offset:2px}"
    "button{margin-top:1rem;padding:.5rem 1.25rem;font-size:1rem;border:0;border-radius:4px;"
    "background:#1d4ed8;color:#fff;cursor:pointer}"
    ".error{color:#a30000;border-left:4px solid #a30000;padding-left:.75rem}"
    ".hint{color:#444;font-size:.9rem;margin:.25rem 0 0}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()

_TEMPLATE = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(
    """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{% if error %}Error: {% endif %}Sign in to Codifier</title>
<style>{{ style }}</style>
</head>
<body>
<main>
<h1>Sign in to Codifier</h1>
{% if error %}<p class="error" id="error" role="alert">{{ error }}</p>{% endif %}
{% if params %}
<p><strong>{{ client_name }}</strong> asks to use Codifier for you. It will be able to do
what the key you enter can do, until you revoke the key. After you sign in you return to
<strong>{{ return_to }}</strong>.</p>
<form method="post" action="{{ action }}">
{% for name, value in params %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}<input type="hidden" name="csrf_token" value="{{ csrf_token }}">
<label for="api_key">Codifier key</label>
<input id="api_key" name="api_key" type="password" required autocomplete="current-password"
 autofocus aria-describedby="api_key_hint{% if error %} error{% endif %}"
 {% if error %}aria-invalid="true"{% endif %}>
<p class="hint" id="api_key_hint">A project key (it starts with cdf_) or the server's
admin token.</p>
<button type="submit">Sign in</button>
</form>
{% endif %}
</main>
</body>
</html>
"""
)


def page_headers(redirect_uri: str | None) -> dict[str, str]:
    """No framing (clickjacking), no caching, no referrer; the form may post here and the
    post's redirect may go to the client (browsers apply form-action to it)."""
    form_action = "'self'"
    if redirect_uri:
        parts = urlsplit(redirect_uri)
        if parts.scheme in ("http", "https") and parts.netloc:
            form_action += f" {parts.scheme}://{parts.netloc}"
        elif parts.scheme:
            form_action += f" {parts.scheme}:"
    return {
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; "
            f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }


def signin_page(
    *,
    status: int,
    params: Mapping[str, str] | None = None,
    csrf_token: str = "",
    client_name: str = "",
    redirect_uri: str | None = None,
    error: str | None = None,
    action: str = "/authorize",
) -> HTMLResponse:
    """The form (when params are given), or just the error (a request the page cannot
    serve: it is never redirected, since where to is not known to be safe)."""
    return_to = ""
    if redirect_uri:
        parts = urlsplit(redirect_uri)
        return_to = f"{parts.scheme}://{parts.netloc}" if parts.netloc else f"{parts.scheme}:"
    body = _TEMPLATE.render(
        style=Markup(_STYLE),
        params=sorted(params.items()) if params else [],
        csrf_token=csrf_token,
        client_name=client_name or "An MCP client",
        return_to=return_to,
        error=error,
        action=action,
    )
    return HTMLResponse(body, status_code=status, headers=page_headers(redirect_uri))
