"""The web app's client of a controller, against a real unix socket (interfaces.md §2)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from fermentrack import config
from fermentrack.controller import client
from fermentrack.controller.client import ControllerError, ControllerUnavailable

from .fake_controller import FakeController, short_home


@pytest.fixture
def home(monkeypatch):
    with short_home() as folder:
        monkeypatch.setenv("FERMENTRACK_HOME", str(folder))
        yield folder


@pytest.fixture
def controller(home):
    with FakeController(config.controller_socket_path("fridge-1")) as fake:
        yield fake


def test_a_command_goes_out_as_one_json_line_and_the_answer_comes_back_without_ok(controller):
    answer = client.send("fridge-1", "status")
    assert controller.requests == [{"cmd": "status"}]
    assert "ok" not in answer
    assert answer["mode"] == "beer_constant"
    assert answer["constants"]["Kp"] == 5.0


def test_arguments_travel_beside_the_command(controller):
    client.send("fridge-1", "set_mode", mode="beer_constant", temperature=18.5)
    assert controller.requests == [
        {"cmd": "set_mode", "mode": "beer_constant", "temperature": 18.5}
    ]


def test_an_answer_that_arrives_in_pieces_is_read_whole(controller):
    controller.behaviour = "chunks"
    assert client.status("fridge-1")["lcd"][0].startswith("Mode")


def test_no_socket_file_means_the_controller_is_not_running(home):
    with pytest.raises(ControllerUnavailable) as raised:
        client.status("fridge-1")
    assert str(raised.value) == "the controller of 'fridge-1' is not running"
    assert raised.value.device == "fridge-1"


def test_a_socket_left_behind_by_a_dead_controller_means_it_is_not_running(home):
    path = config.controller_socket_path("fridge-1")
    leftover = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    leftover.bind(str(path))
    leftover.close()  # the file stays, nobody listens: connecting is refused
    assert path.exists()
    with pytest.raises(ControllerUnavailable, match="is not running"):
        client.status("fridge-1")


def test_a_hung_controller_is_given_up_on_after_the_timeout(controller):
    controller.behaviour = "hang"
    started = time.monotonic()
    with pytest.raises(ControllerUnavailable) as raised:
        client.send("fridge-1", "status", timeout=0.3)
    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 2.0
    assert "did not answer within 0.3 s" in str(raised.value)


def test_an_answer_that_is_not_json_is_reported_plainly(controller):
    controller.behaviour = "garbage"
    with pytest.raises(ControllerUnavailable) as raised:
        client.status("fridge-1")
    assert "gave an answer to 'status' that is not JSON: 'this is not json'" in str(raised.value)


def test_an_answer_without_ok_is_reported_plainly(controller):
    controller.behaviour = "no_ok"
    with pytest.raises(ControllerUnavailable, match='without "ok"'):
        client.status("fridge-1")


def test_a_controller_that_hangs_up_without_answering_is_reported(controller):
    controller.behaviour = "hang_up"
    with pytest.raises(ControllerUnavailable, match="closed the connection without answering"):
        client.status("fridge-1")


def test_ok_false_raises_controller_error_with_its_message(controller):
    controller.refuse("set_mode", "firmware not connected")
    with pytest.raises(ControllerError) as raised:
        client.set_mode("fridge-1", "off")
    assert raised.value.error == "firmware not connected"
    assert str(raised.value) == "the controller of 'fridge-1' refused: firmware not connected"


def test_ok_false_without_an_error_still_says_something(controller):
    controller.answer = lambda request: {"ok": False}
    with pytest.raises(ControllerError, match="no reason given"):
        client.refresh("fridge-1")


def test_both_errors_share_one_base_class_for_pages_to_catch():
    assert issubclass(ControllerUnavailable, client.ControllerProblem)
    assert issubclass(ControllerError, client.ControllerProblem)


def test_a_name_that_cannot_be_a_device_is_refused_before_any_socket_is_opened(home):
    with pytest.raises(config.ConfigError, match="may hold only a-z"):
        client.status("../etc")


@pytest.mark.parametrize(
    ("call", "request_line"),
    [
        (lambda: client.status("fridge-1"), {"cmd": "status"}),
        (lambda: client.set_mode("fridge-1", "off"), {"cmd": "set_mode", "mode": "off"}),
        (
            lambda: client.set_mode("fridge-1", "fridge_constant", 4),
            {"cmd": "set_mode", "mode": "fridge_constant", "temperature": 4.0},
        ),
        (lambda: client.set_mode("fridge-1", "profile"), {"cmd": "set_mode", "mode": "profile"}),
        (
            lambda: client.set_constants("fridge-1", {"Kp": 6.0}),
            {"cmd": "set_constants", "constants": {"Kp": 6.0}},
        ),
        (lambda: client.refresh("fridge-1"), {"cmd": "refresh"}),
        (lambda: client.list_devices("fridge-1"), {"cmd": "list_devices"}),
        (lambda: client.scan_hardware("fridge-1"), {"cmd": "scan_hardware"}),
        (
            lambda: client.apply_device("fridge-1", {"i": 0, "f": 9}),
            {"cmd": "apply_device", "definition": {"i": 0, "f": 9}},
        ),
        (lambda: client.reset_eeprom("fridge-1"), {"cmd": "reset_eeprom"}),
        (lambda: client.reload_config("fridge-1"), {"cmd": "reload_config"}),
    ],
    ids=lambda value: value.get("cmd") if isinstance(value, dict) else None,
)
def test_each_wrapper_sends_its_command(controller, call, request_line):
    call()
    assert controller.requests == [request_line]


def test_set_mode_refuses_an_unknown_mode_without_sending_it(controller):
    with pytest.raises(ValueError, match="'chill' is not one of off, fridge_constant"):
        client.set_mode("fridge-1", "chill")
    assert controller.requests == []


def test_set_mode_needs_a_temperature_for_the_constant_modes(controller):
    with pytest.raises(ValueError, match="needs a temperature"):
        client.set_mode("fridge-1", "beer_constant")
    assert controller.requests == []


def test_the_set_mode_answer_carries_the_new_setpoints(controller):
    answer = client.set_mode("fridge-1", "beer_constant", 20.5)
    assert answer == {"mode": "beer_constant", "beer_set": 20.5, "fridge_set": 17.2}


def test_the_client_never_imports_django():
    code = (
        "import sys, json, fermentrack.controller.client; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'django')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout) == []
