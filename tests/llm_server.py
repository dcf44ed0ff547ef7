"""A real OpenAI-compatible HTTP server for tests: scripted replies, recorded requests, faults.

`FakeLLMServer` listens on 127.0.0.1 (a free port) and implements `POST /v1/chat/completions`,
streamed (server-sent `chat.completion.chunk` events, then `data: [DONE]`) or not, and
`GET /v1/models`. The reply text comes from `reply(messages)`; streamed replies are sent a word
at a time. Faults to simulate: `delay` seconds before answering, an HTTP `status` other than 200,
and `malformed` JSON. Every request is kept in `requests` (method, path, lower-cased headers, parsed body).

    with FakeLLMServer(reply=lambda messages: "Paris [1].") as server:
        settings = Settings.from_env(llm_base_url=server.base_url, llm_model="fake")
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

_PIECE = re.compile(r"\s*\S+")  # a streamed piece: a word with the whitespace before it


class FakeLLMServer:
    def __init__(
        self,
        reply: Callable[[list[dict]], str] | str = "",
        *,
        delay: float = 0.0,
        status: int = 200,
        malformed: bool = False,
        model: str = "fake",
        echo_auth: bool = False,
        failure: str = "simulated failure",
    ):
        self.reply = reply if callable(reply) else (lambda messages, text=reply: text)
        self.delay, self.status, self.malformed, self.model = delay, status, malformed, model
        self.echo_auth = echo_auth  # a failure's message repeats the Authorization header, as some servers do
        self.failure = failure  # a failure's message otherwise
        self.requests: list[dict] = []
        self._closing = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> "FakeLLMServer":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self._httpd = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._closing.set()  # wakes handlers sleeping through a `delay`
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(5)
            self._httpd = None

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # --- recorded requests ----------------------------------------------------------------

    @property
    def last_messages(self) -> list[dict]:
        """The `messages` of the last chat request."""
        chats = [r for r in self.requests if r["path"].endswith("/chat/completions")]
        return chats[-1]["body"]["messages"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request, client_address):
        pass  # a client that gave up (timeout test) breaks the pipe; that is expected


def _handler_for(server: FakeLLMServer):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def do_GET(self):
            server.requests.append({"method": "GET", "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": None})
            if self.path.rstrip("/") != "/v1/models":
                return self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            self._json(200, {"object": "list", "data": [{"id": server.model, "object": "model", "owned_by": "tests"}]})

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {"unparsed": raw.decode("utf-8", "replace")}
            server.requests.append({"method": "POST", "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
            if server.delay and server._closing.wait(server.delay):
                return
            if server.status != 200:
                said = f"Invalid key: {self.headers.get('Authorization')}" if server.echo_auth else server.failure
                return self._json(server.status, {"error": {"message": said, "type": "server_error"}})
            text = server.reply(body.get("messages", []))
            if body.get("stream"):
                self._stream(text)
            elif server.malformed:
                self._raw(200, "application/json", b'{"id": "chatcmpl-fake", "choices": [{"mess')
            else:
                self._json(200, _completion(server.model, text))

        def _stream(self, text: str):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()  # HTTP/1.0: the body ends when the connection closes
            if server.malformed:
                self._event('{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "choices": [{')
            else:
                self._event(json.dumps(_chunk(server.model, {"role": "assistant", "content": ""})))
                for piece in _PIECE.findall(text):
                    self._event(json.dumps(_chunk(server.model, {"content": piece})))
                self._event(json.dumps(_chunk(server.model, {}, finish="stop")))
            self._event("[DONE]")

        def _event(self, data: str):
            self.wfile.write(f"data: {data}\n\n".encode())
            self.wfile.flush()

        def _json(self, status: int, payload: dict):
            self._raw(status, "application/json", json.dumps(payload).encode())

        def _raw(self, status: int, content_type: str, data: bytes):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _chunk(model: str, delta: dict, finish: str | None = None) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(model: str, text: str) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": len(text.split()), "total_tokens": len(text.split())},
    }
