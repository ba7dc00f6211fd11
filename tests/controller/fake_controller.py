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


# What a simulated chamber's firmware lists (brewpi-protocol §7; our firmware's simulated board:
# cooler on pin 5, heater on pin 6, fan 2, light 19, door 4, 1-Wire bus on pin 18), as the
# controller passes it on: protocol keys, temperatures in the device's unit.
FRIDGE_PROBE = "2801EEFFC00000E9"
BEER_PROBE = "2802EEFFC00000B0"
ROOM_PROBE = "2803EEFFC0000087"


def default_devices() -> list[dict]:
    """`list_devices`: cooler, heater, fridge and beer sensors; no room sensor, no door."""
    return [
        {"i": 0, "t": 3, "c": 1, "b": 0, "f": 3, "h": 1, "d": 0, "p": 5, "v": 0, "x": 1},
        {"i": 1, "t": 3, "c": 1, "b": 0, "f": 2, "h": 1, "d": 0, "p": 6, "v": 1, "x": 1},
        {"i": 2, "t": 1, "c": 1, "b": 0, "f": 5, "h": 2, "d": 0, "p": 18, "v": 17.313,
         "a": FRIDGE_PROBE, "j": 0.0},
        {"i": 3, "t": 1, "c": 1, "b": 1, "f": 9, "h": 2, "d": 0, "p": 18, "v": 19.125,
         "a": BEER_PROBE, "j": -0.25},
    ]  # fmt: skip


def default_hardware() -> list[dict]:
    """`scan_hardware`: every pin and probe with its value; `i` is its slot, or -1 if free."""
    return [
        {"i": -1, "c": 1, "b": 0, "f": 0, "h": 1, "p": 2, "v": 0, "x": 1},
        {"i": 0, "c": 1, "b": 0, "f": 0, "h": 1, "p": 5, "v": 0, "x": 1},
        {"i": 1, "c": 1, "b": 0, "f": 0, "h": 1, "p": 6, "v": 1, "x": 1},
        {"i": -1, "c": 1, "b": 0, "f": 0, "h": 1, "p": 19, "v": 0, "x": 1},
        {"i": -1, "c": 1, "b": 0, "f": 0, "h": 1, "p": 4, "v": 0, "x": 1},
        {"i": 2, "c": 1, "b": 0, "f": 0, "h": 2, "p": 18, "v": 17.313, "a": FRIDGE_PROBE,
         "j": 0.0},
        {"i": 3, "c": 1, "b": 0, "f": 0, "h": 2, "p": 18, "v": 19.125, "a": BEER_PROBE, "j": 0.0},
        {"i": -1, "c": 1, "b": 0, "f": 0, "h": 2, "p": 18, "v": 21.5, "a": ROOM_PROBE, "j": 0.0},
    ]  # fmt: skip


def _same_hardware(a: dict, b: dict) -> bool:
    return (a.get("h"), a.get("p"), a.get("a")) == (b.get("h"), b.get("p"), b.get("a"))


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
        self.devices = default_devices()  # what `list_devices` answers
        self.hardware = default_hardware()  # what `scan_hardware` answers
        # The firmware's validation errors, in words: `apply_device` answers them beside the
        # unchanged definition (ok:true: the controller did its job, the firmware said no).
        self.device_errors: list[str] = []
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
            return {"ok": True, "devices": copy.deepcopy(self.devices)}
        if cmd == "scan_hardware":
            return {"ok": True, "hardware": copy.deepcopy(self.hardware)}
        if cmd == "apply_device":
            return self._apply_device(request.get("definition"))
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

    def _apply_device(self, definition: object) -> dict:
        """Like the firmware's `U` (§7.5): echo the definition and install it, or refuse."""
        if not isinstance(definition, dict):
            return {"ok": False, "error": "definition: expected an object"}
        slot = definition.get("i")
        if self.device_errors:
            unchanged = next((d for d in self.devices if d.get("i") == slot), {"i": slot, "f": 0})
            return {"ok": True, "definition": dict(unchanged), "errors": list(self.device_errors)}
        function = definition.get("f", 0)
        self.devices = [
            d
            for d in self.devices
            if d.get("i") != slot and not (function and d.get("f") == function)
        ]
        if function:
            self.devices.append(dict(definition))
            self.devices.sort(key=lambda d: d.get("i", 0))
        for item in self.hardware:
            holder = next((d for d in self.devices if _same_hardware(d, item)), None)
            item["i"] = holder["i"] if holder is not None else -1
        return {"ok": True, "definition": definition}
