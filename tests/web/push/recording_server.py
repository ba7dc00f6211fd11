"""A local HTTP server that records every request it receives and answers from a script per
path: a list of (status, body[, headers]) used in turn (the last one repeats), or HANG to
never answer (until the server stops)."""

from __future__ import annotations

import http.server
import threading
import time
from dataclasses import dataclass
from email.message import Message

HANG = "hang"


@dataclass
class Received:
    at: float  # time.time() when it arrived
    method: str
    path: str
    headers: Message  # case-insensitive, as HTTP headers are
    body: bytes


class RecordingServer:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self.scripts: dict[str, list] = {}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                path = self.path
                with server._lock:
                    server.received.append(Received(time.time(), "POST", path, self.headers, body))
                    script = server.scripts.get(path.split("?")[0], [(200, b"ok")])
                    answer = script.pop(0) if len(script) > 1 else script[0]
                if answer == HANG:
                    server._stop.wait(60)
                    return
                status, text, *headers = answer
                self.send_response(status)
                for name, value in (headers[0] if headers else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, *args) -> None:  # quiet
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> RecordingServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def to(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path.split("?")[0] == path]
