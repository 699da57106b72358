"""`inftool mode=serve toolset=NAME port=N`: serve a toolset as a real MCP server.

Streamable HTTP binds 127.0.0.1 by default and requires `Authorization: Bearer <token>` on
every request (the token from the env var `serve.token_env`, or a random one printed at start);
stdio serves one client on stdin/stdout.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import sys
from typing import Any

from mcp.server.lowlevel.server import Server

from inftool.mcp.server import MAX_SESSIONS

Scope = dict[str, Any]


class BearerAuth:
    """ASGI middleware: 401 unless the request carries the bearer token."""

    def __init__(self, app: Any, token: str) -> None:
        self.app, self.expected = app, f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = json.dumps({"error": "missing or wrong bearer token"}).encode()
                headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
                await send({"type": "http.response.start", "status": 401, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def http_app(server: Server, token: str, host: str = "127.0.0.1") -> Any:
    # the SDK refuses sessions beyond the episode states kept, so a live session never loses its state
    return BearerAuth(server.streamable_http_app(host=host, max_sessions=MAX_SESSIONS), token)


def resolve_token(token_env: str | None) -> tuple[str, bool]:
    """(token, generated): the env var's value, else a fresh random token."""
    if token_env and os.environ.get(token_env):
        return os.environ[token_env], False
    return secrets.token_urlsafe(24), True


def serve_http(server: Server, host: str, port: int, token_env: str | None) -> None:
    import uvicorn

    token, generated = resolve_token(token_env)
    config = uvicorn.Config(http_app(server, token, host), host=host, port=port, log_level="warning")
    sock = config.bind_socket()  # bound before the URL is printed, so port=0 prints the port the OS chose
    sock.listen(config.backlog)  # and listening: a client that reads the URL first is queued, not refused
    bound = sock.getsockname()[1]
    print(f"MCP server (streamable HTTP) on http://{host}:{bound}/mcp", file=sys.stderr, flush=True)
    if generated:
        print(f"bearer token (set {token_env} to choose one): {token}", file=sys.stderr, flush=True)
    uvicorn.Server(config).run(sockets=[sock])


def serve_stdio(server: Server) -> None:
    import anyio
    from mcp.server.stdio import stdio_server

    async def run() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(run)
