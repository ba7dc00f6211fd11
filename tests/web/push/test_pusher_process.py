"""The real `fermentrack manage pusher` process, in its own home, against a local recording
server, with FERMENTRACK_PUSH_TIME_SCALE=60 (a minute passes in a second): what each service
receives, intervals kept, backoff after errors, and a service that never answers holding up
no one. One run of about 12 s serves every test here."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import BREWFATHER_TILT
from .recording_server import HANG, RecordingServer

FERMENTRACK = [sys.executable, "-m", "fermentrack.cli"]
TIME_SCALE = 60

SETUP = """
import time
from fermentrack.web.beers.models import Beer, LogPoint
from fermentrack.web.devices.models import Device
from fermentrack.web.gravity.models import GravitySensor, store_readings
from fermentrack.web.push.models import PushTarget
now = int(time.time())
device = Device(name="fridge-1", simulated=True,
                status={"mode": "beer_constant", "beer_set": 19.0, "state": 4})
device.issue_token(); device.save()
LogPoint.objects.create(device=device, ts=now - 2, beer_temp=19.2, beer_set=19.0,
                        fridge_temp=16.5, room_temp=21.0, state=4, temp_format="C")
Beer.objects.create(device=device, name="Batch 42 IPA", started_at=now - 86400)
tilt = GravitySensor.objects.create(name="Purple Tilt", kind="tilt", colour="Purple", device=device)
store_readings(tilt, [tilt.new_reading(now - 2, raw=1.018, temperature=19.4)])
url = "{url}"
PushTarget.objects.create(name="gen", service="generic", url=url + "/gen", api_key="k-1",
                          interval_s=60, send_sensors="none")
PushTarget.objects.create(name="bf", service="brewfather", url=url + "/bf?id=abc", sensor=tilt,
                          interval_s=900)
PushTarget.objects.create(name="ts", service="thingspeak", api_key="WRITEKEY", controller=device,
                          interval_s=60)
PushTarget.objects.create(name="bfr", service="brewersfriend", api_key="bf-key-9", sensor=tilt,
                          interval_s=900)
PushTarget.objects.create(name="gf", service="grainfather", url=url + "/gf/log", brew_id="48213",
                          sensor=tilt, interval_s=900)
PushTarget.objects.create(name="flaky", service="generic", url=url + "/flaky", interval_s=60)
PushTarget.objects.create(name="hung", service="generic", url=url + "/hang", interval_s=60)
"""


def environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FERMENTRACK_")}
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE"):  # always the home's SQLite
        env.pop(name, None)
    return env | {"FERMENTRACK_HOME": str(home)} | extra


def manage(home: Path, *args: str) -> None:
    subprocess.run(
        [*FERMENTRACK, "manage", *args],
        env=environment(home),
        check=True,
        capture_output=True,
        timeout=60,
    )


def rows(home: Path) -> dict[str, dict]:
    with sqlite3.connect(home / "fermentrack.sqlite3") as db:
        db.row_factory = sqlite3.Row
        return {row["name"]: dict(row) for row in db.execute("SELECT * FROM push_pushtarget")}


def eventually(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Set up a home with seven targets, run the pusher until the hung target has timed out,
    stop it with SIGTERM; answers (server, home, exit code, log text)."""
    home = tmp_path_factory.mktemp("push-home")
    server = RecordingServer().start()
    server.scripts["/flaky"] = [(500, b"oops"), (500, b"oops"), (200, b"ok")]
    server.scripts["/hang"] = [HANG]
    log_path = home / "pusher.log"
    process = None
    try:
        manage(home, "migrate", "-v0")
        manage(home, "shell", "-c", SETUP.replace("{url}", server.url))
        env = environment(
            home,
            FERMENTRACK_PUSH_TIME_SCALE=str(TIME_SCALE),
            FERMENTRACK_THINGSPEAK_URL=f"{server.url}/ts/update.json",
            FERMENTRACK_BREWERSFRIEND_URL=f"{server.url}/bfr/stream",
        )
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [*FERMENTRACK, "manage", "pusher"],
                env=env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
        eventually(
            lambda: rows(home)["hung"]["last_error"],
            timeout=25,
            what="the target whose server never answers is cut by the timeout",
        )
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
        yield server, home, code, log_path.read_text()
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        server.stop()


def test_brewfather_receives_the_tilt_with_its_chambers_data_exactly_once_in_its_interval(run):
    server, *_ = run
    (received,) = server.to("/bf")  # 15 min pass in 15 s: the run is shorter
    assert received.path == "/bf?id=abc"
    assert received.headers["Content-Type"] == "application/json"
    assert json.loads(received.body) == BREWFATHER_TILT


def test_brewers_friend_receives_the_tilt_once_in_its_15_minutes_with_the_key_in_path_and_header(
    run,
):
    server, *_ = run
    (received,) = server.to("/bfr/stream/bf-key-9")
    assert received.headers["X-API-KEY"] == "bf-key-9"
    assert received.headers["Content-Type"] == "application/json"
    assert json.loads(received.body) == {
        "report_source": "Fermentrack",
        "name": "Purple Tilt",
        "device_source": "Tilt",
        "gravity": 1.018,
        "gravity_unit": "G",
        "temp": 19.4,
        "temp_unit": "C",
    }


def test_grainfather_receives_the_tilt_as_an_ispindel_named_for_the_brew_once_in_15_minutes(run):
    server, *_ = run
    (received,) = server.to("/gf/log")
    assert received.headers["Content-Type"] == "application/json"
    assert json.loads(received.body) == {
        "report_source": "Fermentrack",
        "name": "48213,SG",
        "token": "grainfather",
        "ID": 0,
        "angle": 0,
        "battery": 0,
        "interval": 900,
        "RSSI": 0,
        "gravity": 1.018,
        "temperature": 19.4,
        "temp_units": "C",
    }


def test_thingspeak_receives_the_chosen_controller_with_the_key_in_the_body(run):
    server, *_ = run
    received = server.to("/ts/update.json")
    assert received
    assert json.loads(received[0].body) == {
        "api_key": "WRITEKEY",
        "field1": "Batch 42 IPA",
        "field2": "fridge-1",
        "field3": "C",
        "field4": 19.2,
        "field5": 16.5,
        "field6": 21.0,
        "field7": 1.018,
    }


def test_generic_receives_the_controllers_and_is_never_sent_again_before_its_interval(run):
    server, *_ = run
    received = server.to("/gen")
    body = json.loads(received[0].body)
    assert (body["api_key"], body["version"], body["gravity_sensors"]) == ("k-1", "1.0", [])
    assert body["brewpi_devices"][0]["name"] == "fridge-1"
    assert body["brewpi_devices"][0]["control_mode"] == "b"
    gaps = [b.at - a.at for a, b in itertools.pairwise(received)]
    assert len(received) >= 5
    assert min(gaps) >= 60 / TIME_SCALE - 0.05, gaps


def test_a_500_is_retried_after_backoff_then_succeeds(run):
    server, home, *_ = run
    received = server.to("/flaky")
    assert len(received) >= 3
    first_gap, second_gap = received[1].at - received[0].at, received[2].at - received[1].at
    assert first_gap >= 60 / TIME_SCALE - 0.05  # 1 min after the first failure
    assert second_gap >= 120 / TIME_SCALE - 0.05  # 2 min after the second
    row = rows(home)["flaky"]
    assert (row["last_outcome"], row["last_status"], row["failures"]) == ("sent", 200, 0)
    assert row["last_success_at"] is not None


def test_a_service_that_never_answers_is_cut_at_10_s_and_delays_no_other(run):
    server, home, *_ = run
    # Its backoff (1 min, a second here) has passed when the timeout ends, so a second try may
    # be on its way when the run stops: the first is the one that was cut.
    hung = server.to("/hang")[0]
    row = rows(home)["hung"]
    assert row["last_error"] == "no answer within 10 s"
    assert (row["last_outcome"], row["failures"]) == ("failed", 1)
    during = [r for r in server.to("/gen") if hung.at < r.at < hung.at + 10]
    assert len(during) >= 4  # sent every second or two meanwhile


def test_the_pusher_logs_one_line_per_send_and_stops_cleanly_on_sigterm(run):
    _, _, code, log = run
    assert code == 0
    assert "push 'bf' (brewfather): sent, HTTP 200, " in log
    assert "push 'flaky' (generic): FAILED, HTTP 500, " in log
    assert "the service answered HTTP 500: oops" in log
    assert "push 'hung' (generic): FAILED, HTTP -, " in log
    assert "pusher stopped" in log
    assert "Traceback" not in log
