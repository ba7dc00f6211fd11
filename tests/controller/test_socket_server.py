"""The controller's unix socket (interfaces.md §2), spoken to raw and through client.py.

A real controller process drives our firmware; the web app is away (its URL goes nowhere), which
the socket must not notice. Hostile requests come over a raw socket.
"""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import threading
import time

import pytest

from fermentrack import config
from fermentrack.controller import client
from fermentrack.controller.client import ControllerError

from .controller_rig import (
    FERMENTRACK,
    ControllerProcess,
    Firmware,
    environment,
    eventually,
    free_port,
)
from .fake_controller import short_home

NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers HTTP there


@pytest.fixture(scope="module")
def home():
    with short_home() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setenv("FERMENTRACK_HOME", str(folder))
        yield folder


@pytest.fixture(scope="module")
def running(home):
    """A controller on a simulated chamber; the web app is not there."""
    firmware = Firmware(home, "sock", speed=10).start()
    # A socket file left by a controller killed before it could remove it.
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(config.controller_socket_path("sock")))
    stale.close()
    controller = ControllerProcess(home, "sock", "token", NOWHERE, link=firmware.url).start()
    try:
        controller.wait_connected()
        yield controller
    finally:
        controller.stop()
        firmware.stop()


class RawConnection:
    def __init__(self, name: str = "sock") -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(5)
        self.sock.connect(str(config.controller_socket_path(name)))
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self) -> dict:
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "the controller closed the connection"
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def ask(self, request: dict | bytes) -> dict:
        data = request if isinstance(request, bytes) else json.dumps(request).encode() + b"\n"
        self.send(data)
        return self.answer()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def connection(running):
    raw = RawConnection()
    yield raw
    raw.close()


def test_the_socket_replaces_a_stale_file_and_is_open_to_the_group_only(running):
    mode = config.controller_socket_path("sock").stat().st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o660


def test_client_py_gets_the_status_with_settings_constants_and_variables(running):
    status = client.status("sock")
    assert status["connected"] is True
    assert status["firmware"] == {"version": "0.2.4", "board": "ESP8266", "dialect": "esp"}
    assert status["settings"]["mode"] in "ofbpt"
    assert status["constants"]["tempFormat"] == "C"
    assert "beerDiff" in status["variables"]
    assert len(status["lcd"]) == 4
    # The web app is away: the controller controls and logs all the same; points wait.
    status = eventually(
        lambda: (
            (status := client.status("sock"))["points_logged"] >= 1
            and status["web_error"]
            and status
        ),
        10,
        "a point is logged and its sending failed",
    )
    assert status["outbox_backlog"] >= 1
    assert "web app unavailable" in status["web_error"]


def test_one_connection_carries_several_requests_each_answered_in_turn(connection):
    connection.send(b'{"cmd": "status"}\n{"cmd": "list_devices"}\n')
    assert "connected" in connection.answer()
    assert "devices" in connection.answer()
    # A request in pieces is read whole.
    connection.send(b'{"cmd": "set_mode", "mo')
    time.sleep(0.05)
    connection.send(b'de": "beer_constant", "temperature": 18.5}\n')
    answer = connection.answer()
    assert answer["ok"] is True and answer["beer_set"] == 18.5


@pytest.mark.parametrize(
    ("request_line", "error"),
    [
        (b"status\n", "a request is one JSON object"),
        (b"\xff\xfe{}\n", "a request is one JSON object"),
        (b"[1, 2]\n", "a request is a JSON object"),
        (b'{"mode": "off"}\n', 'the request has no "cmd"'),
        (b'{"cmd": "dance"}\n', 'unknown cmd "dance": expected one of status, set_mode'),
        (b'{"cmd": "set_mode"}\n', "mode: expected one of off, fridge_constant"),
        (b'{"cmd": "set_mode", "mode": "beer_constant"}\n', "needs a temperature"),
        (
            b'{"cmd": "set_mode", "mode": "beer_constant", "temperature": "cold"}\n',
            'temperature: expected a number, got "cold"',
        ),
        (b'{"cmd": "set_constants", "constants": [1]}\n', "constants: expected a JSON object"),
        (b'{"cmd": "set_constants", "constants": {"Kq": 1}}\n', "unknown constant 'Kq'"),
        (b'{"cmd": "set_constants", "constants": {"Kp": true}}\n', "Kp: expected a number"),
        (
            b'{"cmd": "set_constants", "constants": {"beerFastFilt": 9}}\n',
            "beerFastFilt: expected a whole number from 0 to 6",
        ),
        (b'{"cmd": "apply_device"}\n', "definition: expected a JSON object"),
        (b'{"cmd": "apply_device", "definition": {"f": 9}}\n', "'i' (the slot) is required"),
        (
            b'{"cmd": "apply_device", "definition": {"i": 1, "zz": 2}}\n',
            "definition: unknown key 'zz'",
        ),
    ],
)
def test_a_malformed_request_gets_a_clear_error_and_the_connection_goes_on(
    connection, request_line, error
):
    answer = connection.ask(request_line)
    assert answer["ok"] is False
    assert error in answer["error"]
    assert connection.ask({"cmd": "status"})["ok"] is True


def test_a_line_over_64_kb_is_refused_and_the_next_line_is_answered(connection):
    huge = b'{"cmd": "status", "padding": "' + b"x" * 70_000 + b'"}\n'
    answer = connection.ask(huge + b'{"cmd": "status"}\n')
    assert answer == {"ok": False, "error": "the request is longer than 65536 bytes"}
    assert connection.answer()["ok"] is True  # one answer per request, the long one included


def test_a_client_that_hangs_up_mid_request_costs_nothing(running):
    for _ in range(20):
        raw = RawConnection()
        raw.send(b'{"cmd": "refresh"}\n{"cmd": "sta')
        raw.close()
    assert client.status("sock")["connected"] is True


def test_a_second_controller_for_the_same_device_refuses_to_start(running, home):
    second = subprocess.run(
        [*FERMENTRACK, "controller", "sock"],
        env=environment(home, FERMENTRACK_DEVICE_TOKEN="token", FERMENTRACK_API_URL=NOWHERE),
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert second.returncode == 1
    assert "another controller already answers on" in second.stderr
    assert client.status("sock")["connected"] is True


def test_without_firmware_the_commands_that_need_it_say_so_and_status_still_answers(home):
    nothing_there = f"tcp://127.0.0.1:{free_port()}"
    controller = ControllerProcess(home, "alone", "token", NOWHERE, link=nothing_there).start()
    try:
        status = eventually(
            lambda: client.status("alone")["last_error"] and client.status("alone"),
            10,
            "the controller reports why it has no firmware",
        )
        assert status["connected"] is False
        assert "cannot connect to the firmware" in status["last_error"]
        for cmd, args in [
            ("set_mode", {"mode": "off"}),
            ("refresh", {}),
            ("list_devices", {}),
            ("scan_hardware", {}),
            ("apply_device", {"definition": {"i": 0, "f": 0}}),
            ("reset_eeprom", {}),
            ("set_constants", {"constants": {"Kp": 5}}),
        ]:
            with pytest.raises(ControllerError, match="firmware not connected"):
                client.send("alone", cmd, **args)
        with pytest.raises(ControllerError, match="the web app did not answer"):
            client.reload_config("alone")
    finally:
        assert controller.stop() == 0


class SwallowingProxy:
    """A hostile firmware peer: passes everything between the controller and a real firmware,
    except `j` commands, which it swallows, as a firmware that stopped listening would."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self.server.accept()
            except OSError:
                return
            far = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(far, near, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(near, far, True), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket, swallow_j: bool) -> None:
        buffer = b""
        try:
            while chunk := source.recv(4096):
                if not swallow_j:
                    sink.sendall(chunk)
                    continue
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if not line.startswith(b"j"):
                        sink.sendall(line + b"\n")
        except OSError:
            pass
        finally:
            sink.close()

    def close(self) -> None:
        self.server.close()


def test_a_firmware_that_does_not_answer_gets_an_error_within_two_seconds(home):
    firmware = Firmware(home, "deaf", speed=10).start()
    proxy = SwallowingProxy(firmware.port)
    link = f"tcp://127.0.0.1:{proxy.port}"
    controller = ControllerProcess(home, "deaf", "token", NOWHERE, link=link).start()
    try:
        controller.wait_connected()
        raw = RawConnection("deaf")
        started = time.monotonic()
        answer = raw.ask({"cmd": "set_mode", "mode": "beer_constant", "temperature": 19})
        assert time.monotonic() - started < 2.0
        assert answer["ok"] is False
        assert "the firmware did not answer: no S: and C: reply" in answer["error"]
        assert raw.ask({"cmd": "status"})["connected"] is True
        raw.close()
    finally:
        controller.stop()
        proxy.close()
        firmware.stop()
