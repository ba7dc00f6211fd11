"""A controller on another computer than the web app: it answers interfaces.md §2 over TCP
(`--listen`) once a connection's first line carries the device's secret, and client.py reaches
it there when the web app's lookup names it. A real controller process on our firmware."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from fermentrack import config
from fermentrack.controller import client
from fermentrack.controller.client import ControllerError, ControllerUnavailable, Remote

from .controller_rig import (
    FERMENTRACK,
    ControllerProcess,
    Firmware,
    environment,
    free_port,
)

NOWHERE = "http://127.0.0.1:9"
TOKEN = "the-device-token"
SECRET = config.token_fingerprint(TOKEN)


@pytest.fixture(scope="module")
def remote(home):
    """A controller answering over TCP on a port of its own; its unix socket is removed so
    nothing can reach it but over TCP."""
    port = free_port()
    firmware = Firmware(home, "far", speed=10).start()
    controller = ControllerProcess(
        home, "far", TOKEN, NOWHERE, link=firmware.url, args=("--listen", f"127.0.0.1:{port}")
    ).start()
    try:
        controller.wait_connected()
        config.controller_socket_path("far").unlink()
        yield Remote("127.0.0.1", port, SECRET)
    finally:
        controller.stop()
        firmware.stop()


@pytest.fixture
def looked_up(remote):
    client.use_remote_lookup(lambda name: remote if name == "far" else None)
    yield remote
    client.use_remote_lookup(None)


def answers(port: int, *lines: bytes, count: int) -> list[dict]:
    """The first `count` answers to `lines` on a raw TCP connection; fewer when the controller
    closes the connection first."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(b"".join(lines))
        received = b""
        while received.count(b"\n") < count:
            chunk = raw.recv(65536)
            if not chunk:
                break
            received += chunk
    return [json.loads(line) for line in received.splitlines()[:count]]


def test_client_py_reaches_a_controller_on_another_computer_over_tcp(looked_up):
    status = client.status("far")
    assert status["connected"] is True
    assert status["firmware"]["board"] == "ESP8266"

    answer = client.set_mode("far", "beer_constant", 18.5)

    assert answer["settings"]["mode"] == "b"
    assert client.status("far")["settings"]["beerSet"] == 18.5


def test_a_tcp_connection_without_the_secret_first_is_refused_and_closed(remote):
    replies = answers(remote.port, b'{"cmd": "status"}\n', b'{"cmd": "status"}\n', count=2)

    assert replies == [  # one refusal, then the connection closed: the second went unanswered
        {
            "ok": False,
            "error": 'the first line must be {"auth": "<secret>"} with this device\'s secret '
            "(wrong or missing secret)",
        }
    ]


def test_after_the_secret_one_connection_carries_several_requests(remote):
    auth = json.dumps({"auth": SECRET}).encode() + b"\n"
    replies = answers(remote.port, auth, b'{"cmd": "status"}\n', b'{"cmd": "nonsense"}\n', count=2)

    assert replies[0]["ok"] is True and replies[0]["connected"] is True
    assert replies[1]["ok"] is False and "unknown cmd" in replies[1]["error"]


def test_a_wrong_secret_reads_as_a_refusal_on_the_device_page(remote):
    client.use_remote_lookup(lambda name: Remote(remote.host, remote.port, "0" * 64))
    try:
        with pytest.raises(ControllerError, match="with this device's secret"):
            client.status("far")
    finally:
        client.use_remote_lookup(None)


def test_a_remote_controller_that_is_not_listening_is_named_with_its_address():
    port = free_port()
    client.use_remote_lookup(lambda name: Remote("127.0.0.1", port, SECRET))
    try:
        with pytest.raises(ControllerUnavailable) as problem:
            client.status("far")
    finally:
        client.use_remote_lookup(None)
    assert str(problem.value) == (
        f"the controller of 'far' is not answering on 127.0.0.1:{port}: is it running there, "
        f"with --listen 127.0.0.1:{port}?"
    )


def test_a_controller_whose_tcp_address_is_taken_stops_with_one_clear_line(home):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*FERMENTRACK, "controller", "busy", "--listen", f"127.0.0.1:{port}"],
            env=environment(home, FERMENTRACK_DEVICE_TOKEN=TOKEN, FERMENTRACK_API_URL=NOWHERE),
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert not config.controller_socket_path("busy").exists()


def test_the_web_app_reaches_a_controller_on_another_computer_through_its_address(home, web):
    """The device is added with its controller's address; the controller runs with --listen
    there (its unix socket removed, so TCP is the only way); a process of the web app (here
    `manage shell`) reaches it through client.py as every page does."""
    firmware = Firmware(home, "cellar", speed=10).start()
    port = free_port()
    token = web.run(
        "device",
        "add",
        "cellar",
        "--link",
        firmware.url,
        "--controller-address",
        f"127.0.0.1:{port}",
    ).strip()
    controller = ControllerProcess(
        home, "cellar", token, web.url, link=firmware.url, args=("--listen", f"127.0.0.1:{port}")
    ).start()
    try:
        controller.wait_connected()
        config.controller_socket_path("cellar").unlink()
        answer = web.manage_shell(
            "import json\n"
            "from fermentrack.controller import client\n"
            "from fermentrack.web.devices import control\n"
            "from fermentrack.web.devices.models import Device\n"
            "cellar = Device.objects.get(name='cellar')\n"
            "outcome = control.change_mode(cellar, 'beer_constant', 17.5)\n"
            "status = client.status('cellar')\n"
            "print(json.dumps([outcome.ok, status['connected'], status['settings']['beerSet']]))"
        )
    finally:
        controller.stop()
        firmware.stop()
    assert json.loads(answer.strip().splitlines()[-1]) == [True, True, 17.5]
