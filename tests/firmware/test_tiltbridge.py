"""The simulated chamber's Tilt, posted as a TiltBridge: the body, the pace, and a web app that
fails or is not there (the firmware serves on regardless)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path

import pytest

from fermentrack.firmware.tiltbridge import JITTER_SG, TiltBridgePoster, bridge_name, tilt_colour

FIRMWARE = [sys.executable, "-m", "fermentrack.cli", "firmware"]


class Receiver:
    """An HTTP server on 127.0.0.1 keeping every POST body (and when it came), answering
    `status`."""

    def __init__(self, status: int = 200) -> None:
        self.posts: list[tuple[float, str, dict]] = []
        self.status = status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append((time.monotonic(), self.path, json.loads(body)))
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": "success"}')

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tiltbridge/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def run_firmware(folder: Path, *extra: str, speed: str = "36000") -> subprocess.Popen:
    process = subprocess.Popen(
        [*FIRMWARE, "--eeprom", str(folder), "--tcp", "127.0.0.1:0", "--speed", speed, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    assert "listening on" in line, f"the firmware did not start: {line!r}"
    return process


def stop(process: subprocess.Popen) -> str:
    """Stop with SIGTERM; the firmware's log."""
    process.send_signal(signal.SIGTERM)
    try:
        _, log = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        _, log = process.communicate()
    return log


def test_the_firmware_posts_its_tilt_as_a_tiltbridge_at_most_once_a_real_second(tmp_path, receiver):
    folder = tmp_path / "cellar-1"
    process = run_firmware(
        folder, "--tiltbridge", receiver.url, "--tilt-colour", "purple", "--tilt-every", "900"
    )
    try:
        time.sleep(4.5)
    finally:
        log = stop(process)
    assert process.returncode == 0, log
    posts = receiver.posts
    assert 4 <= len(posts) <= 6, [when for when, _, _ in posts]
    gaps = [later[0] - earlier[0] for earlier, later in pairwise(posts)]
    assert min(gaps) > 0.9, gaps  # 900 simulated s is 0.025 real s at this speed
    _, path, body = posts[0]
    assert path == "/tiltbridge/"
    assert body["mdns_id"] == "sim-cellar-1"
    tilt = body["tilts"]["Purple"]
    assert tilt["color"] == "Purple" and tilt["tempUnit"] == "F"
    assert len(tilt["temp"].split(".")[1]) == 1 and 60 < float(tilt["temp"]) < 75
    assert len(tilt["gravity"].split(".")[1]) == 4
    # The default beer starts at 1.050 and ferments: 45 simulated hours in, it has begun.
    gravities = [float(body["tilts"]["Purple"]["gravity"]) for _, _, body in posts]
    assert abs(gravities[0] - 1.050) <= JITTER_SG + 1e-9
    assert gravities[-1] < gravities[0] - 0.003, gravities


def test_a_web_app_that_refuses_or_is_not_there_is_logged_once_and_the_firmware_serves_on(
    tmp_path,
):
    refusing = Receiver(status=500)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{closed.getsockname()[1]}/tiltbridge/"
    try:
        for url in (refusing.url, nobody):
            process = run_firmware(
                tmp_path / "fw", "--tiltbridge", url, "--tilt-colour", "Red", speed="3600"
            )
            time.sleep(2.5)
            assert process.poll() is None, "a failing post must never stop the firmware"
            log = stop(process)
            assert log.count("TiltBridge post to") == 1, log
        assert len(refusing.posts) >= 2
    finally:
        refusing.close()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--tiltbridge", "http://127.0.0.1:9/"], "--tiltbridge needs --tilt-colour"),
        (["--tilt-colour", "Purple"], "--tilt-colour goes with --tiltbridge URL"),
        (["--tiltbridge", "ftp://x/", "--tilt-colour", "Purple"], "expected http://"),
        (["--tiltbridge", "http://x/", "--tilt-colour", "Mauve"], "'Mauve' is not a Tilt colour"),
        (["--tiltbridge", "http://x/", "--tilt-colour", "Red", "--tilt-every", "0"], "1 or more"),
    ],
)
def test_tiltbridge_options_that_cannot_work_are_refused_in_words(tmp_path, arguments, message):
    done = subprocess.run(
        [*FIRMWARE, "--eeprom", str(tmp_path / "fw"), "--tcp", "127.0.0.1:0", *arguments],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert message in done.stderr


def test_the_body_carries_the_readings_as_a_bridge_writes_them():
    poster = TiltBridgePoster("http://127.0.0.1:9/", "Purple", "sim-x", seed=7)
    try:
        body = poster.body(beer_c=18.0, gravity=1.0304)
    finally:
        poster.close()
    tilt = body["tilts"]["Purple"]
    assert tilt["temp"] == "64.4"
    assert abs(float(tilt["gravity"]) - 1.0304) <= JITTER_SG + 0.00005
    # The jitter comes from the seed: the same seed, the same readings.
    again = TiltBridgePoster("http://127.0.0.1:9/", "Purple", "sim-x", seed=7)
    try:
        assert again.body(beer_c=18.0, gravity=1.0304) == body
    finally:
        again.close()


def test_the_bridge_is_named_after_the_firmware_folder_within_a_bridge_names_length():
    assert bridge_name(Path("/home/x/firmware/fridge-2")) == "sim-fridge-2"
    assert len(bridge_name(Path("f" * 48))) == 31
    assert tilt_colour(" pink ") == "Pink"
