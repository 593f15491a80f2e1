# Codifier: the MCP server (Streamable HTTP at /mcp, legacy SSE at /sse, GET /health).
#
#   docker build -t codifier .
#   docker run -p 8080:8080 -v codifier-data:/data -e API_AUTH_TOKEN=... codifier
#
# Without DATABASE_URL the embedded PostgreSQL keeps its data under /data (a volume).
# The Debian release is named so that the apt pin below matches the base image.

# --- build: the wheel only (hatchling backend); nothing else leaves this stage ---
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY dsl ./dsl
COPY codifier ./codifier
COPY playbooks ./playbooks
COPY generators ./generators
COPY stdlib ./stdlib
COPY migrations ./migrations
COPY schema ./schema
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

# --- runtime: the built wheel and its dependencies, no source tree ---
FROM python:3.11-slim-bookworm AS runtime

# git clones the repositories that pack_repo is given.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git=1:2.39.5* \
    && rm -rf /var/lib/apt/lists/*

# aws-athena-mcp pins old dependencies, so it gets a virtualenv of its own.
RUN python -m venv /opt/athena-venv \
    && /opt/athena-venv/bin/pip install --no-cache-dir aws-athena-mcp==1.0.1 "pydantic<2.12"

COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir /tmp/*.whl && rm -f /tmp/*.whl

# The embedded PostgreSQL refuses to run as root, so the server runs as its own user,
# which owns the data directory.
RUN groupadd --system --gid 10001 codifier \
    && useradd --system --uid 10001 --gid codifier --create-home --home-dir /home/codifier \
        --shell /bin/sh codifier \
    && mkdir -p /data \
    && chown codifier:codifier /data

ENV PYTHONUNBUFFERED=1 \
    CODIFIER_HOME=/data \
    CODIFIER_HOST=0.0.0.0 \
    PORT=8080 \
    CODIFIER_ATHENA_PYTHON=/opt/athena-venv/bin/python \
    ORT_DISABLE_TELEMETRY=1

VOLUME ["/data"]
USER 10001:10001
WORKDIR /home/codifier
EXPOSE 8080

# curl is not installed: python's urllib does the check (a non-2xx answer raises: exit 1).
# It asks http://127.0.0.1:8080/health, or the port PORT names if that is overridden.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8080') + '/health', timeout=4)"]

CMD ["codifier", "serve"]
