"""The MCP server: tools over Streamable HTTP, legacy SSE and stdio, with auth."""
