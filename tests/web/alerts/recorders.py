"""Local stand-ins for the services alerts go to, recording what they received: an HTTP server
(webhooks and ntfy) and an SMTP sink (aiosmtpd). Both on free ports, stopped by their fixture."""

from __future__ import annotations

import email
import http.server
import socket
import threading
import time
from dataclasses import dataclass, field
from email.header import decode_header, make_header

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class HttpRecorder:
    """Answers `status` to every POST (a list: one status per request, then the last again)."""

    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[Request] = field(default_factory=list)
    # Seconds to wait before answering a request whose body holds the key: a slow service.
    slow: dict[bytes, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.port = free_port()
        self._lock = threading.Lock()
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with recorder._lock:
                    recorder.requests.append(Request(self.path, dict(self.headers), body))
                    index = min(len(recorder.requests), len(recorder.statuses)) - 1
                    status = recorder.statuses[index]
                time.sleep(max((s for key, s in recorder.slow.items() if key in body), default=0))
                answer = b'{"ok": true}' if status < 400 else b"refused by the recorder"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def on(self, path: str) -> list[Request]:
        with self._lock:
            return [request for request in self.requests if request.path == path]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Mail:
    to: list[str]
    subject: str
    body: str


class SmtpSink:
    """An SMTP server that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Mail] = []
        self.port = free_port()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope) -> str:
                parsed = email.message_from_bytes(envelope.content)
                subject = str(make_header(decode_header(parsed["Subject"])))
                payload = parsed.get_payload(decode=True).decode(parsed.get_content_charset())
                sink.messages.append(Mail(list(envelope.rcpt_tos), subject, payload.strip()))
                return "250 OK"

        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
