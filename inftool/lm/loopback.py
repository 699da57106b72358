"""A scripted OpenAI-compatible server on 127.0.0.1, for tests, benchmarks and smoke checks.

It answers `/v1/chat/completions` instantly, or as scripted per request: an HTTP status, a hang,
a body that is not JSON, a dropped connection, or a given assistant message. It records the
request bodies it received. Loopback only: it never binds another address.

    python -m inftool.lm.loopback --port 8011      # an instant endpoint (bench/lm.py uses it)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import threading
from collections import deque
from typing import Any

HOST = "127.0.0.1"


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for a server started next)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def minimal_instance(schema: Any, depth: int = 0) -> Any:
    """The smallest value a JSON Schema accepts (required properties only, first enum/option)."""
    if not isinstance(schema, dict) or depth > 12:
        return {}
    for key in ("const",):
        if key in schema:
            return schema[key]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return minimal_instance(schema[key][0], depth + 1)
    kind = schema.get("type", "object")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        props = schema.get("properties", {})
        return {k: minimal_instance(props.get(k, {}), depth + 1) for k in schema.get("required", list(props))}
    if kind == "array":
        return [minimal_instance(schema.get("items", {}), depth + 1) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + (1 if "exclusiveMinimum" in schema else 0))
        return int(low) if kind == "integer" else float(low)
    if kind == "boolean":
        return True
    return {"date": "2026-01-01", "date-time": "2026-01-01T00:00:00Z", "email": "a@b.io"}.get(schema.get("format"), "x")


def schema_reply(request: dict[str, Any]) -> dict[str, Any]:
    """An instant, structurally valid reply: the schema's minimal instance, a call to the first
    tool (until a tool result is in the conversation), or a short text."""
    response_format = request.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        return {"content": json.dumps(minimal_instance(response_format["json_schema"].get("schema", {})))}
    tools = request.get("tools") or []
    messages = request.get("messages") or [{}]
    if tools and messages[-1].get("role") != "tool":
        fn = tools[0]["function"]
        args = json.dumps(minimal_instance(fn.get("parameters", {})))
        return {"content": None, "tool_calls": [{"id": "call_0", "type": "function",
                                                  "function": {"name": fn["name"], "arguments": args}}]}  # fmt: skip
    return {"content": "done"}


def _completion(message: dict[str, Any], model: str) -> bytes:
    return json.dumps({
        "id": "cmpl-loopback", "object": "chat.completion", "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", **message},
                     "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }).encode()  # fmt: skip


class LoopbackServer:
    def __init__(self, port: int = 0, record: bool = True, schema_replies: bool = False, delay: float = 0.0) -> None:
        self.port = port
        self.delay = delay
        self.schema_replies = schema_replies
        self.script: deque[dict[str, Any]] = deque()
        self.requests: list[dict[str, Any]] = []
        self.record = record
        self._server: asyncio.AbstractServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def then(self, **behaviour: Any) -> LoopbackServer:
        """Queue the behaviour of the next request: status=, hang=, raw=, drop=True, or message=."""
        self.script.append(behaviour)
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                if not await self._respond(method, path, body, writer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _respond(self, method: str, path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        if method == "GET":
            return self._send(writer, 200, b'{"object": "list", "data": [{"id": "loopback"}]}')
        request = json.loads(body or b"{}")
        if self.record:
            self.requests.append(request)
        behaviour = self.script.popleft() if self.script else {}
        if behaviour.get("drop"):
            writer.transport.abort()
            return False
        if behaviour.get("hang") or self.delay:
            await asyncio.sleep(behaviour.get("hang") or self.delay)
        if "status" in behaviour:
            return self._send(writer, behaviour["status"], b'{"error": {"message": "scripted failure"}}')
        if "raw" in behaviour:
            return self._send(writer, 200, behaviour["raw"].encode())
        default = schema_reply(request) if self.schema_replies else {"content": "ok"}
        message = behaviour.get("message", default)
        return self._send(writer, 200, _completion(message, request.get("model", "loopback")))

    @staticmethod
    def _send(writer: asyncio.StreamWriter, status: int, payload: bytes) -> bool:
        head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        writer.write(head.encode() + payload)
        return True

    async def serve(self) -> None:
        self._server = await asyncio.start_server(self._handle, HOST, self.port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    def start(self) -> LoopbackServer:
        """Serve from a background thread (for tests)."""
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self.serve())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if not (self._loop and self._server and self._thread):
            return
        server = self._server

        async def shutdown() -> None:
            server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--schema-replies", action="store_true", help="answer with schema-valid JSON and tool calls")
    args = parser.parse_args()
    server = LoopbackServer(args.port, record=False, schema_replies=args.schema_replies)

    async def forever() -> None:
        await server.serve()
        print(f"listening on {server.url}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(forever())


if __name__ == "__main__":
    main()
