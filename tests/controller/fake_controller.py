"""A fake device controller for tests: a real unix-socket server speaking interfaces.md §2.

It runs in a background thread, records every request, keeps a small state that `set_mode` and
`set_constants` change, and can be told to misbehave (hang, send garbage, hang up, refuse), so
the web app's client and pages are tested against a real socket, not a mock.
"""

from __future__ import annotations

import copy
import json
import os
import socketserver
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

MODES = ("off", "fridge_constant", "beer_constant", "profile")

# The defaults of an AVR firmware in °C (brewpi-protocol §4.4), as the controller reports them.
DEFAULT_CONSTANTS = {
    "tempFormat": "C",
    "tempSetMin": 1.0,
    "tempSetMax": 30.0,
    "pidMax": 10.0,
    "Kp": 5.0,
    "Ki": 0.25,
    "Kd": 1.5,
    "iMaxErr": 0.5,
    "idleRangeH": 1.0,
    "idleRangeL": -1.0,
    "heatTargetH": 0.301,
    "heatTargetL": -0.199,
    "coolTargetH": 0.199,
    "coolTargetL": -0.301,
    "maxHeatTimeForEst": 600,
    "maxCoolTimeForEst": 1200,
    "fridgeFastFilt": 1,
    "fridgeSlowFilt": 4,
    "fridgeSlopeFilt": 3,
    "beerFastFilt": 3,
    "beerSlowFilt": 4,
    "beerSlopeFilt": 4,
    "lah": False,
    "hs": False,
}


def default_status() -> dict:
    return {
        "ts": int(time.time()),
        "connected": True,
        "firmware": {"version": "0.2.13", "board": "s", "dialect": "avr"},
        "mode": "beer_constant",
        "beer_set": 19.0,
        "fridge_set": 17.2,
        "lcd": [
            "Mode   Beer Const.  ",
            "Beer   19.1  19.0 °C",
            "Fridge 17.3  17.2 °C",
            "Idling for     05m12",
        ],
        "state": 0,
        "last_error": None,
        "settings": {
            "mode": "b",
            "beerSet": 19.0,
            "fridgeSet": 17.2,
            "heatEst": 0.2,
            "coolEst": 5.0,
        },
        "constants": dict(DEFAULT_CONSTANTS),
        "variables": {"beerDiff": 0.1, "diffIntegral": 0.0, "beerSlope": 0.0},
    }


@contextmanager
def short_home():
    """A FERMENTRACK_HOME short enough for unix socket paths (about 100 bytes at most)."""
    folder = Path(tempfile.mkdtemp(prefix="ft-", dir="/tmp"))
    (folder / "run").mkdir()
    try:
        yield folder
    finally:
        for path in sorted(folder.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        folder.rmdir()


class FakeController:
    """Answers like a controller on `socket_path`; `behaviour` chooses how it misbehaves.

    behaviour: "answer" (default), "hang" (never answer), "garbage" (a line that is not JSON),
    "no_ok" (JSON without "ok"), "hang_up" (close without answering), "chunks" (a good answer
    sent in small pieces).
    """

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = Path(socket_path)
        self.requests: list[dict] = []
        self.state = default_status()
        self.behaviour = "answer"
        self.refusals: dict[str, str] = {}  # cmd -> error: answer ok:false
        self._stopping = threading.Event()
        self._server: socketserver.ThreadingUnixStreamServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def commands(self) -> list[str]:
        return [request.get("cmd") for request in self.requests]

    def refuse(self, cmd: str, error: str) -> None:
        self.refusals[cmd] = error

    def start(self) -> FakeController:
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for line in self.rfile:
                    if not fake._answer_line(line, self.wfile):
                        return

        server = socketserver.ThreadingUnixStreamServer(str(self.socket_path), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        os.chmod(self.socket_path, 0o660)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None
        self.socket_path.unlink(missing_ok=True)

    def __enter__(self) -> FakeController:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- one request line -> one answer line ------------------------------------------------

    def _answer_line(self, line: bytes, out) -> bool:
        """Write the answer to `line`; False to close the connection."""
        try:
            request = json.loads(line)
        except ValueError:
            request = {"cmd": None, "unparsed": line.decode(errors="replace")}
        self.requests.append(request)
        if self.behaviour == "hang":
            self._stopping.wait(30)
            return False
        if self.behaviour == "hang_up":
            return False
        if self.behaviour == "garbage":
            out.write(b"this is not json\n")
            return True
        if self.behaviour == "no_ok":
            out.write(b'{"mode": "off"}\n')
            return True
        answer = self.answer(request)
        data = json.dumps(answer).encode() + b"\n"
        if self.behaviour == "chunks":
            for start in range(0, len(data), 7):
                out.write(data[start : start + 7])
                out.flush()
                time.sleep(0.001)
        else:
            out.write(data)
        out.flush()
        return True

    def answer(self, request: dict) -> dict:
        cmd = request.get("cmd")
        if cmd in self.refusals:
            return {"ok": False, "error": self.refusals[cmd]}
        if cmd == "status":
            return {"ok": True, **copy.deepcopy(self.state)}
        if cmd == "set_mode":
            return self._set_mode(request)
        if cmd == "set_constants":
            constants = request.get("constants")
            if not isinstance(constants, dict):
                return {"ok": False, "error": "constants: expected an object"}
            unknown = sorted(set(constants) - set(DEFAULT_CONSTANTS))
            if unknown:
                return {"ok": False, "error": f"unknown constant {unknown[0]!r}"}
            self.state["constants"].update(constants)
            return {"ok": True, "constants": dict(self.state["constants"])}
        if cmd in ("refresh", "reload_config", "reset_eeprom"):
            return {"ok": True}
        if cmd == "list_devices":
            return {"ok": True, "devices": []}
        if cmd == "scan_hardware":
            return {"ok": True, "hardware": []}
        if cmd == "apply_device":
            return {"ok": True, "definition": request.get("definition")}
        return {"ok": False, "error": f"unknown command {cmd!r}"}

    def _set_mode(self, request: dict) -> dict:
        mode = request.get("mode")
        if mode not in MODES:
            return {"ok": False, "error": f"mode {mode!r} is not one of {', '.join(MODES)}"}
        temperature = request.get("temperature")
        if mode in ("fridge_constant", "beer_constant") and not isinstance(
            temperature, int | float
        ):
            return {"ok": False, "error": f"mode {mode} needs a temperature"}
        self.state["mode"] = mode
        if mode == "beer_constant":
            self.state["beer_set"] = temperature
        elif mode == "fridge_constant":
            self.state["fridge_set"] = temperature
            self.state["beer_set"] = None
        elif mode == "off":
            self.state["beer_set"] = self.state["fridge_set"] = None
        return {
            "ok": True,
            "mode": mode,
            "beer_set": self.state["beer_set"],
            "fridge_set": self.state["fridge_set"],
        }
