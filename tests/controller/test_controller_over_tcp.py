"""A controller on another computer than the web app: it answers interfaces.md §2 over TCP
(`--listen`) once a connection has answered its challenge with the proof of the device's secret,
and client.py reaches it there when the web app's lookup names it. A real controller process on
our firmware."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading

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


@contextlib.contextmanager
def looking_up(found: Remote):
    """client.py told that the controller of "far" answers at `found` (the web app's hook)."""
    previous = client.use_remote_lookup(lambda name: found if name == "far" else None)
    try:
        yield found
    finally:
        client.use_remote_lookup(previous)


@pytest.fixture
def looked_up(remote):
    with looking_up(remote):
        yield remote


class RawConnection:
    """A TCP connection to the controller read line by line, as a stranger would use it."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.lines = self.sock.makefile("rb")

    def line(self) -> dict | None:
        raw = self.lines.readline()
        return json.loads(raw) if raw else None

    def send(self, *objects: dict) -> None:
        self.sock.sendall(b"".join(json.dumps(o).encode() + b"\n" for o in objects))

    def close(self) -> None:
        self.lines.close()
        self.sock.close()


@pytest.fixture
def raw(remote):
    connection = RawConnection(remote.port)
    yield connection
    connection.close()


def test_client_py_reaches_a_controller_on_another_computer_over_tcp(looked_up):
    status = client.status("far")
    assert status["connected"] is True
    assert status["firmware"]["board"] == "ESP8266"

    answer = client.set_mode("far", "beer_constant", 18.5)

    assert answer["settings"]["mode"] == "b"
    assert client.status("far")["settings"]["beerSet"] == 18.5


def test_each_connection_opens_with_a_new_challenge(remote):
    first, second = RawConnection(remote.port), RawConnection(remote.port)
    try:
        nonces = [first.line()["nonce"], second.line()["nonce"]]
    finally:
        first.close()
        second.close()
    assert len(set(nonces)) == 2 and all(len(nonce) == 64 for nonce in nonces)


def test_a_request_without_the_proof_first_is_refused_and_the_connection_closed(raw):
    raw.line()  # the challenge
    raw.send({"cmd": "status"}, {"cmd": "status"})

    assert raw.line() == {
        "ok": False,
        "error": 'the first line must be {"auth": "<proof>"}, the answer to the challenge '
        "(interfaces.md §2)",
    }
    assert raw.line() is None  # closed: the second request went unanswered


def test_a_proof_recorded_on_one_connection_does_not_open_another(remote, raw):
    nonce = raw.line()["nonce"]
    raw.send({"auth": client.proof(SECRET, nonce)}, {"cmd": "status"})
    assert raw.line()["ok"] is True

    replay = RawConnection(remote.port)
    try:
        replay.line()  # a new challenge, which the recorded proof does not answer
        replay.send({"auth": client.proof(SECRET, nonce)}, {"cmd": "status"})
        refusal = replay.line()
    finally:
        replay.close()
    assert refusal["ok"] is False and refusal["error"].startswith("wrong proof")


def test_after_the_proof_one_connection_carries_several_requests(raw):
    nonce = raw.line()["nonce"]
    raw.send({"auth": client.proof(SECRET, nonce)}, {"cmd": "status"}, {"cmd": "nonsense"})

    status, unknown = raw.line(), raw.line()

    assert status["ok"] is True and status["connected"] is True
    assert unknown["ok"] is False and "unknown cmd" in unknown["error"]


def test_a_wrong_token_reads_as_a_refusal_saying_which_token_to_use(remote):
    with (
        looking_up(Remote(remote.host, remote.port, "0" * 64)),
        pytest.raises(ControllerError) as refused,
    ):
        client.status("far")

    assert str(refused.value) == (
        "the controller of 'far' refused: wrong proof: this controller runs with another token "
        "than the web app knows (or is another version of Fermentrack); start it with the token "
        "the web app showed last"
    )


def test_a_remote_controller_that_is_not_listening_is_named_with_its_address():
    port = free_port()
    with (
        looking_up(Remote("127.0.0.1", port, SECRET)),
        pytest.raises(ControllerUnavailable) as problem,
    ):
        client.status("far")

    assert str(problem.value) == (
        f"the controller of 'far' is not answering on 127.0.0.1:{port}: is it running there, "
        f"with --listen on port {port}?"
    )


def test_something_else_on_the_port_is_not_taken_for_a_controller():
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        port = stranger.getsockname()[1]

        def greet() -> None:
            connection, _ = stranger.accept()
            with connection:
                connection.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")

        greeter = threading.Thread(target=greet)
        greeter.start()
        with (
            looking_up(Remote("127.0.0.1", port, SECRET)),
            pytest.raises(ControllerUnavailable, match="did not open with a challenge"),
        ):
            client.status("far")
        greeter.join(5)


def test_a_lookup_that_fails_reads_as_a_controller_that_cannot_be_reached():
    def broken(name: str) -> Remote:
        raise RuntimeError("the database is locked")

    previous = client.use_remote_lookup(broken)
    try:
        with pytest.raises(ControllerUnavailable) as problem:
            client.status("far")
    finally:
        client.use_remote_lookup(previous)
    assert str(problem.value) == (
        "the controller of 'far' could not be looked up: RuntimeError: the database is locked"
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
