"""The real web app for controller tests: `fermentrack web` in a subprocess with its own home.

WebApp starts it on a free port, adds devices (`fermentrack device add`) to get their tokens,
kills it (-9) and starts it again on the same port and home, and reads its SQLite database to
count what arrived. StubWebServer is a stand-in web peer that answers every request with one
fixed status (or never answers), for the failures the real web app will not produce on demand.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

STARTUP_TIMEOUT_S = 60.0
FERMENTRACK = [sys.executable, "-m", "fermentrack.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fermentrack_environment(home: Path) -> dict[str, str]:
    environment = {**os.environ, "FERMENTRACK_HOME": str(home)}
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE"):  # always the home's SQLite
        environment.pop(name, None)
    return environment


class WebApp:
    """`fermentrack web --port PORT` with FERMENTRACK_HOME=home; its output goes to home/web.log."""

    def __init__(self, home: Path, port: int | None = None) -> None:
        self.home = Path(home)
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = self.home / "web.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the web app and return once its port answers."""
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*FERMENTRACK, "web", "--port", str(self.port)],
                env=fermentrack_environment(self.home),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the web app exited at start-up:\n{self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the web app did not answer on {self.url}:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut would stop it."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def __enter__(self) -> WebApp:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.kill()

    def add_device(self, name: str) -> str:
        """Add a device (its link goes nowhere) and return its controller token."""
        result = subprocess.run(
            [*FERMENTRACK, "device", "add", name, "--link", "tcp://127.0.0.1:9"],
            env=fermentrack_environment(self.home),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"fermentrack device add {name} failed: {result.stderr}")
        return result.stdout.strip()

    def point_timestamps(self, device: str) -> list[int]:
        """Every stored log point's ts of `device`, duplicates included (there must be none)."""
        return [
            ts
            for (ts,) in self._query(
                "SELECT p.ts FROM beers_logpoint p JOIN devices_device d ON d.id = p.device_id "
                "WHERE d.name = ? ORDER BY p.ts",
                device,
            )
        ]

    def stored_points(self, device: str) -> list[dict]:
        """Every stored log point of `device` with its values, in time order."""
        columns = ("ts", "beer_temp", "beer_set", "fridge_temp", "fridge_set", "room_temp")
        columns += ("state", "temp_format")
        rows = self._query(
            f"SELECT {', '.join('p.' + column for column in columns)} FROM beers_logpoint p "
            "JOIN devices_device d ON d.id = p.device_id WHERE d.name = ? ORDER BY p.ts",
            device,
        )
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def stored_annotations(self, device: str) -> list[tuple[int, str, str]]:
        """Every stored annotation of `device`: (ts, source, text), in time order."""
        return self._query(
            "SELECT a.ts, a.source, a.text FROM beers_annotation a JOIN devices_device d "
            "ON d.id = a.device_id WHERE d.name = ? ORDER BY a.ts, a.id",
            device,
        )

    def annotation_texts(self, device: str) -> list[str]:
        return [
            text
            for (text,) in self._query(
                "SELECT a.text FROM beers_annotation a JOIN devices_device d "
                "ON d.id = a.device_id WHERE d.name = ? ORDER BY a.ts, a.id",
                device,
            )
        ]

    def _query(self, query: str, *parameters: object) -> list[tuple]:
        database = sqlite3.connect(self.home / "fermentrack.sqlite3", timeout=10)
        try:
            return database.execute(query, parameters).fetchall()
        finally:
            database.close()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


class StubWebServer:
    """A web peer on a free port answering every request with `status` and a JSON `detail` (or
    the raw `body`), recording when each request arrived. status=None: never answer."""

    def __init__(self, status: int | None, detail: str = "stub", body: bytes | None = None) -> None:
        self.status = status
        self.body = body if body is not None else json.dumps({"detail": detail}).encode()
        self.request_times: list[float] = []
        self.port = free_port()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._silent: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> StubWebServer:
        if self.status is None:
            # Listening but never accepting: the kernel completes the connection, the request
            # is written, and no answer ever comes.
            self._silent = socket.socket()
            self._silent.bind(("127.0.0.1", self.port))
            self._silent.listen(16)
            return self
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                stub.request_times.append(time.monotonic())
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                body = stub.body
                self.send_response(stub.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._silent is not None:
            self._silent.close()
