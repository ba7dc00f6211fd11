"""The Tilt scanner: its averaging and holding, and the real `fermentrack tilt-scanner --replay`
process posting to a recording HTTP server (common brief, decision 3)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from fermentrack.gravity.scanner import (
    HOLD_S,
    AdapterSilent,
    Advertisement,
    AveragedReading,
    BluetoothListener,
    ColourAverages,
    HeldReadings,
    ReplayLine,
    TiltScanner,
    parse_replay,
    watch_for_silence,
)
from fermentrack.gravity.tilt import TiltReading, TiltVersion, decode_tilt

RECORDINGS = Path(__file__).parent / "recordings"
TOKEN = "scanner-token-for-tests"


# --- the pure parts -------------------------------------------------------------------------


def reading(colour: str = "Purple", temp_f: float = 64.0, gravity: float = 1.052, **kw):
    values = {"pro": False, "battery_weeks": None, "rssi": None, **kw}
    return TiltReading(colour, temp_f, gravity, **values)


def test_a_replay_line_is_offset_rssi_and_hex_with_spaces_allowed() -> None:
    text = "# a comment\n\n0.5 -71 4C 00 02 15  # trailing comment\n1 -60 4c000215\n"
    assert parse_replay(text) == [
        ReplayLine(0.5, -71, bytes.fromhex("4c000215")),
        ReplayLine(1.0, -60, bytes.fromhex("4c000215")),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.5 -71\n", "line 1: expected '<seconds offset> <rssi> <hex manufacturer data>'"),
        ("0.5 strong 4C00\n", "line 1: expected"),
        ("# fine\n0.5 -71 4C0\n", "line 2: expected"),
        ("-1 -71 4C00\n", "line 1: offset '-1' is not 0 or more"),
        ("2 -71 4C00\n1 -71 4C00\n", "line 2: offset 1 s comes before the line above"),
    ],
)
def test_a_bad_replay_line_is_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_replay(text, "tilt.replay")


def test_an_interval_averages_each_colour_into_one_reading() -> None:
    averages = ColourAverages()
    averages.add(reading(temp_f=64.0, gravity=1.050, rssi=-70), at=100.0)
    averages.add(reading(temp_f=65.0, gravity=1.053, battery_weeks=12, rssi=-73), at=101.0)
    averages.add(reading("Red", 68.0, 1.040), at=102.0)
    assert averages.close() == [
        AveragedReading("Red", 102, 68.0, 1.04, False, None, None),
        AveragedReading("Purple", 100, 64.5, 1.0515, False, 12, -72),
    ]
    assert averages.close() == []


def test_the_latest_battery_age_heard_is_kept() -> None:
    averages = ColourAverages()
    for at, weeks in enumerate([12, None, 13, None]):
        averages.add(reading(battery_weeks=weeks), at=float(at))
    assert averages.close()[0].battery_weeks == 13


def test_a_pro_and_a_classic_of_one_colour_are_never_averaged_together() -> None:
    averages = ColourAverages()
    averages.add(reading(temp_f=64.0, gravity=1.052), at=10.0)
    averages.add(reading(temp_f=64.3, gravity=1.0521, pro=True), at=11.0)
    assert averages.close() == [AveragedReading("Purple", 11, 64.3, 1.0521, True, None, None)]


def test_a_colour_never_gets_the_same_timestamp_twice() -> None:
    averages = ColourAverages()
    averages.add(reading(), at=1000.4)
    first = averages.close()[0].ts
    averages.add(reading(), at=1000.45)  # a clock step back, or readings close together
    second = averages.close()[0].ts
    assert (first, second) == (1000, 1001)


def test_the_scanner_drops_unphysical_readings_and_holds_versions_for_the_next_post() -> None:
    scanner = TiltScanner(post_interval_s=30, origin=0.0)
    purple = bytes.fromhex("4C000215A495BB40C5B14B44B5121370F02D74DE")
    scanner.hear(Advertisement(1.0, -70, purple + bytes.fromhex("0040041CC5")))
    scanner.hear(Advertisement(2.0, -70, purple + bytes.fromhex("00400708C5")))  # SG 1.800
    scanner.hear(Advertisement(3.0, -70, purple + bytes.fromhex("03E703ECC5")))  # version 1004
    scanner.hear(Advertisement(4.0, -70, purple + bytes.fromhex("00D0041CC5")))  # 208 °F
    assert not scanner.held.readings
    assert scanner.held.versions == {"Purple": 1004}
    scanner.hear(Advertisement(31.0, -70, purple + bytes.fromhex("0040041CC5")))
    assert list(scanner.held.readings) == [
        AveragedReading("Purple", 1, 64.0, 1.052, False, None, -70)
    ]


def test_an_interval_closes_at_its_end_even_when_no_tilt_was_heard_since() -> None:
    scanner = TiltScanner(post_interval_s=30, origin=1000.0)
    purple = bytes.fromhex("4C000215A495BB40C5B14B44B5121370F02D74DE0040041CC5")
    scanner.hear(Advertisement(1010.0, -70, purple))
    assert scanner.next_interval_end() == 1030.0
    scanner.close_intervals_before(1029.9)
    assert not scanner.held and not scanner.new_readings.is_set()
    scanner.close_intervals_before(1030.0)  # what the timer does at the interval's end
    assert [r.ts for r in scanner.held.readings] == [1010]
    assert scanner.new_readings.is_set()
    assert scanner.next_interval_end() == 1060.0


def test_bleak_advertisements_get_their_apple_company_id_back() -> None:
    # bleak hands manufacturer data as {company ID: the bytes after it}.
    listener = BluetoothListener()
    payload = bytes.fromhex("0215A495BB40C5B14B44B5121370F02D74DE0040041CC5")
    listener._on_advertisement(None, SimpleNamespace(manufacturer_data={0x004C: payload}, rssi=-70))
    listener._on_advertisement(None, SimpleNamespace(manufacturer_data={0x0059: payload}, rssi=-70))
    heard = listener._heard.get_nowait()
    assert heard.data == bytes.fromhex("4C00") + payload and heard.rssi == -70
    assert decode_tilt(heard.data, heard.rssi) == reading(rssi=-70)
    assert listener._heard.empty()


def test_held_readings_are_posted_oldest_first_in_bounded_bodies() -> None:
    held = HeldReadings()
    held.add([AveragedReading("Red", ts, 68.0, 1.04, False, None, None) for ts in range(5)])
    held.add_version(TiltVersion("Red", 1004))
    post = held.next_post(limit=2)
    assert [r.ts for r in post.readings] == [0, 1]
    assert post.body()["versions"] == [{"colour": "Red", "firmware_version": 1004}]
    held.delivered(post)
    assert [r.ts for r in held.readings] == [2, 3, 4]
    assert held.versions == {}


def test_a_version_heard_while_a_post_was_on_its_way_is_kept_for_the_next() -> None:
    held = HeldReadings()
    held.add_version(TiltVersion("Red", 1004))
    post = held.next_post()
    held.add_version(TiltVersion("Red", 1005))
    held.delivered(post)
    assert held.versions == {"Red": 1005}


def test_readings_older_than_a_day_are_dropped_while_the_web_app_is_away() -> None:
    held = HeldReadings()
    now = 10 * HOLD_S
    held.add(
        [
            AveragedReading("Red", now - age, 68.0, 1.04, False, None, None)
            for age in (HOLD_S + 60, HOLD_S + 30, HOLD_S - 30, 0)
        ]
    )
    assert held.drop_older_than(now - HOLD_S) == 2
    assert [now - r.ts for r in held.readings] == [HOLD_S - 30, 0]


# --- the real process against a recording web app ---------------------------------------------


@dataclass
class RecordingWebApp:
    """Answers POSTs with the statuses in `answers` (then 200) and records each request."""

    url: str = ""
    answers: list[tuple[int, dict]] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)

    def delivered_readings(self) -> list[dict]:
        return [
            r
            for request in self.requests
            if request["status"] == 200
            for r in request["body"]["readings"]
        ]

    def delivered_versions(self) -> list[dict]:
        return [
            v
            for request in self.requests
            if request["status"] == 200
            for v in request["body"]["versions"]
        ]


@pytest.fixture
def web_app() -> Iterator[RecordingWebApp]:
    app = RecordingWebApp()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                status, answer = (
                    app.answers.pop(0)
                    if app.answers
                    else (200, {"stored": len(body["readings"]), "skipped": 0})
                )
                app.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers["Authorization"],
                        "content_type": self.headers["Content-Type"],
                        "body": body,
                        "status": status,
                    }
                )
            content = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield app
    server.shutdown()
    server.server_close()


def scanner_environment(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("FERMENTRACK")}
    env.update({"FERMENTRACK_HOME": str(tmp_path), "FERMENTRACK_TILT_POST_S": "1", **overrides})
    return env


def run_scanner(*arguments: str, env: dict[str, str], timeout: float = 30):
    return subprocess.run(
        [sys.executable, "-m", "fermentrack.cli", "tilt-scanner", *arguments],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def replay(recording: str, web_app: RecordingWebApp, tmp_path: Path):
    env = scanner_environment(
        tmp_path, FERMENTRACK_API_URL=web_app.url, FERMENTRACK_SCANNER_TOKEN=TOKEN
    )
    started = time.time()
    finished = run_scanner("--replay", str(RECORDINGS / recording), env=env)
    assert finished.returncode == 0, finished.stderr
    return started, time.time(), finished


def without_ts(readings: list[dict]) -> list[dict]:
    return [{name: value for name, value in r.items() if name != "ts"} for r in readings]


def test_a_replay_posts_one_average_per_colour_and_interval_with_the_bearer_token(
    web_app: RecordingWebApp, tmp_path: Path
) -> None:
    started, ended, _ = replay("three_intervals.replay", web_app, tmp_path)

    assert {r["path"] for r in web_app.requests} == {"/api/gravity/bluetooth"}
    assert {r["authorization"] for r in web_app.requests} == {f"Bearer {TOKEN}"}
    assert {r["content_type"] for r in web_app.requests} == {"application/json"}
    assert web_app.requests[0]["body"] == {
        "readings": [
            {"colour": "Red", "ts": web_app.requests[0]["body"]["readings"][0]["ts"],
             "temp_f": 68.0, "gravity": 1.04, "pro": False, "battery_weeks": None, "rssi": -60},
            {"colour": "Purple", "ts": web_app.requests[0]["body"]["readings"][1]["ts"],
             "temp_f": 65.0, "gravity": 1.052, "pro": False, "battery_weeks": 12, "rssi": -72},
        ],
        "versions": [{"colour": "Purple", "firmware_version": 1004}],
    }  # fmt: skip
    readings = web_app.delivered_readings()
    assert without_ts(readings) == [
        {"colour": "Red", "temp_f": 68.0, "gravity": 1.04, "pro": False,
         "battery_weeks": None, "rssi": -60},
        {"colour": "Purple", "temp_f": 65.0, "gravity": 1.052, "pro": False,
         "battery_weeks": 12, "rssi": -72},
        {"colour": "Purple", "temp_f": 66.5, "gravity": 1.0495, "pro": False,
         "battery_weeks": None, "rssi": -71},
        {"colour": "Red", "temp_f": 69.0, "gravity": 1.039, "pro": False,
         "battery_weeks": 40, "rssi": -61},
    ]  # fmt: skip
    assert web_app.delivered_versions() == [{"colour": "Purple", "firmware_version": 1004}]
    red_0, purple_0, purple_1, red_2 = (r["ts"] for r in readings)
    assert all(isinstance(ts, int) and started - 1 <= ts <= ended + 1 for ts in (red_0, red_2))
    assert purple_1 - purple_0 == 1  # the middles of 0.1-0.5 s and 1.2-1.4 s
    assert red_2 > red_0


def test_a_replay_of_every_colour_posts_each_colour_once(
    web_app: RecordingWebApp, tmp_path: Path
) -> None:
    replay("every_colour.replay", web_app, tmp_path)
    assert len(web_app.requests) == 1
    assert without_ts(web_app.requests[0]["body"]["readings"]) == [
        {"colour": colour, "temp_f": temp_f, "gravity": gravity, "pro": False,
         "battery_weeks": weeks, "rssi": rssi}
        for colour, temp_f, gravity, weeks, rssi in [
            ("Red", 68.0, 1.04, None, -61),
            ("Green", 66.0, 1.045, 3, -62),
            ("Black", 70.0, 1.05, None, -63),
            ("Purple", 64.0, 1.052, None, -72),  # heard twice: rssi -71 and -73
            ("Orange", 62.0, 1.06, 20, -65),
            ("Blue", 60.0, 1.065, None, -66),
            ("Yellow", 72.0, 1.07, 7, -67),
            ("Pink", 75.0, 1.08, None, -68),
        ]
    ]  # fmt: skip
    assert web_app.requests[0]["body"]["versions"] == []


def test_a_replay_of_a_tilt_pro_posts_its_finer_resolution_and_version(
    web_app: RecordingWebApp, tmp_path: Path
) -> None:
    replay("tilt_pro.replay", web_app, tmp_path)
    assert [r["body"] for r in web_app.requests] == [
        {
            "readings": [
                {"colour": "Blue", "ts": web_app.requests[0]["body"]["readings"][0]["ts"],
                 "temp_f": 64.4, "gravity": 1.052, "pro": True, "battery_weeks": 12,
                 "rssi": -67},
            ],
            "versions": [{"colour": "Blue", "firmware_version": 1008}],
        }
    ]  # fmt: skip


def test_advertisements_that_are_not_readings_post_nothing_but_the_one_good_reading(
    web_app: RecordingWebApp, tmp_path: Path
) -> None:
    _, _, finished = replay("not_readings.replay", web_app, tmp_path)
    assert without_ts(web_app.delivered_readings()) == [
        {"colour": "Purple", "temp_f": 64.0, "gravity": 1.052, "pro": False,
         "battery_weeks": 30, "rssi": -71}
    ]  # fmt: skip
    assert web_app.delivered_versions() == [{"colour": "Purple", "firmware_version": 1004}]
    assert "Purple Tilt: dropped an unphysical reading: gravity 1.8 is outside" in finished.stderr


def test_while_the_web_app_answers_503_readings_are_held_then_all_delivered(
    web_app: RecordingWebApp, tmp_path: Path
) -> None:
    web_app.answers = [(503, {"detail": "restarting"}), (503, {"detail": "restarting"})]
    started, _, finished = replay("three_intervals.replay", web_app, tmp_path)

    statuses = [r["status"] for r in web_app.requests]
    assert statuses == [503, 503, 200]
    # The retries wait about 1 s, then about 2 s (each with up to 25 % less, as jitter).
    first, second, third = (r["body"] for r in web_app.requests)
    assert len(first["readings"]) <= len(second["readings"]) <= len(third["readings"])
    assert without_ts(third["readings"]) == [
        {"colour": "Red", "temp_f": 68.0, "gravity": 1.04, "pro": False,
         "battery_weeks": None, "rssi": -60},
        {"colour": "Purple", "temp_f": 65.0, "gravity": 1.052, "pro": False,
         "battery_weeks": 12, "rssi": -72},
        {"colour": "Purple", "temp_f": 66.5, "gravity": 1.0495, "pro": False,
         "battery_weeks": None, "rssi": -71},
        {"colour": "Red", "temp_f": 69.0, "gravity": 1.039, "pro": False,
         "battery_weeks": 40, "rssi": -61},
    ]  # fmt: skip
    assert third["versions"] == [{"colour": "Purple", "firmware_version": 1004}]
    assert finished.stderr.count("web app unavailable") == 2
    assert "HTTP 503" in finished.stderr
    assert "web app reachable again" in finished.stderr
    assert time.time() - started >= 1.2 + 0.75 + 1.5  # the last interval, then two waits


def test_a_body_the_web_app_refuses_is_dropped_with_its_reason_and_the_rest_delivered(
    web_app: RecordingWebApp, tmp_path: Path
) -> None:
    web_app.answers = [(400, {"detail": "readings.0.gravity: expected a number"})]
    _, _, finished = replay("three_intervals.replay", web_app, tmp_path)
    assert web_app.requests[0]["status"] == 400
    assert [r["colour"] for r in web_app.delivered_readings()] == ["Purple", "Red"]
    assert "readings.0.gravity: expected a number" in finished.stderr


def test_sigterm_stops_the_scanner_and_says_how_many_readings_were_not_delivered(
    web_app: RecordingWebApp, tmp_path: Path
) -> None:
    web_app.answers = [(503, {"detail": "down"})] * 50
    env = scanner_environment(
        tmp_path, FERMENTRACK_API_URL=web_app.url, FERMENTRACK_SCANNER_TOKEN=TOKEN
    )
    command = [sys.executable, "-m", "fermentrack.cli", "tilt-scanner", "--replay"]
    with subprocess.Popen(
        [*command, str(RECORDINGS / "three_intervals.replay")],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        deadline = time.monotonic() + 20
        while not web_app.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert web_app.requests, "the scanner never posted"
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert re.search(r"tilt scanner stopped with [1-9]\d* readings not delivered", stderr)


def test_a_missing_token_stops_the_scanner_with_one_clear_line(tmp_path: Path) -> None:
    env = scanner_environment(tmp_path, FERMENTRACK_API_URL="http://127.0.0.1:9")
    finished = run_scanner("--replay", str(RECORDINGS / "every_colour.replay"), env=env)
    assert finished.returncode == 1
    assert finished.stdout == ""
    assert finished.stderr.splitlines() == [
        "fermentrack tilt-scanner: FERMENTRACK_SCANNER_TOKEN is not set: the scanner needs the "
        "token the web app issues when it adds the tilt-scanner watcher"
    ]


def test_a_replay_file_that_cannot_be_read_stops_the_scanner_with_one_line(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.replay"
    bad.write_text("0.1 -70 not-hex\n")
    env = scanner_environment(tmp_path, FERMENTRACK_SCANNER_TOKEN=TOKEN)
    finished = run_scanner("--replay", str(bad), env=env)
    assert finished.returncode == 1
    assert finished.stderr.splitlines() == [
        f"fermentrack tilt-scanner: {bad}, line 1: expected '<seconds offset> <rssi> <hex "
        "manufacturer data>', got '0.1 -70 not-hex'"
    ]


def test_an_adapter_that_hears_nothing_at_all_stops_the_scanner_to_start_afresh(
    web_app: RecordingWebApp, tmp_path: Path
) -> None:
    env = scanner_environment(
        tmp_path,
        FERMENTRACK_API_URL=web_app.url,
        FERMENTRACK_SCANNER_TOKEN=TOKEN,
        FERMENTRACK_TILT_SILENCE_S="3",
        FERMENTRACK_TILT_POST_S="60",  # the interval is still open when the silence is noticed
    )
    started = time.monotonic()
    finished = run_scanner("--replay", str(RECORDINGS / "adapter_goes_quiet.replay"), env=env)

    assert finished.returncode == 1  # circus starts it again, on a reopened adapter
    assert time.monotonic() - started < 30, "it waited for the advertisement two minutes on"
    assert finished.stderr.splitlines()[-1].startswith(
        "fermentrack tilt-scanner: heard no Bluetooth advertisement at all for "
    )
    # What it heard before the silence was delivered before it stopped.
    assert [(r["colour"], r["gravity"]) for r in web_app.delivered_readings()] == [
        ("Purple", 1.052)
    ]


def test_a_silent_adapter_waits_for_held_readings_to_be_delivered_before_a_restart() -> None:
    class Quiet:
        heard_at = time.monotonic() - 60

    scanner = TiltScanner(1, time.time())
    scanner.held.add([AveragedReading("Red", int(time.time()), 68.0, 1.04, False, None, None)])

    async def watch() -> float:
        watching = asyncio.create_task(watch_for_silence(Quiet(), scanner, 0.2))
        await asyncio.sleep(0.6)
        assert not watching.done(), "it stopped with a reading not yet delivered"
        scanner.held.delivered(scanner.held.next_post())
        began = time.monotonic()
        with pytest.raises(AdapterSilent, match="the adapter or BlueZ seems stuck"):
            await watching
        return time.monotonic() - began

    assert asyncio.run(watch()) < 1.0


@pytest.mark.skipif(sys.platform != "linux", reason="BlueZ over D-Bus is Linux's Bluetooth")
def test_without_a_bluetooth_adapter_the_scanner_stops_with_one_clear_line(
    tmp_path: Path,
) -> None:
    env = scanner_environment(
        tmp_path,
        FERMENTRACK_SCANNER_TOKEN=TOKEN,
        DBUS_SYSTEM_BUS_ADDRESS=f"unix:path={tmp_path}/no-system-bus",
    )
    finished = run_scanner(env=env)
    assert finished.returncode == 1
    (line,) = finished.stderr.splitlines()
    assert line.startswith(
        "fermentrack tilt-scanner: cannot scan for Tilts: no Bluetooth adapter is usable"
    )
    assert "BlueZ" in line
