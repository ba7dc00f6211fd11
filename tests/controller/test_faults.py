"""Faults the controller must live through: the firmware killed, its TCP connection stolen, its
serial port gone, the web app away, the controller itself killed -9 in the middle of a batch.

Each test counts: every point the controller logged (its log says so after each fsync'd append)
must be in the web app afterwards, once, and nothing else.
"""

from __future__ import annotations

import socket
import time

from fermentrack import config
from fermentrack.controller.main import outbox_path
from fermentrack.controller.outbox import Outbox

from .controller_rig import ControllerProcess, Firmware, WebApp, dump, eventually, wire_chamber


def start_device(home, web: WebApp, name: str, **firmware_options):
    firmware = Firmware(home, name, **firmware_options).start()
    token = web.add_device(name, firmware.url)
    controller = ControllerProcess(home, name, token, web.url, link=firmware.url).start()
    controller.wait_connected()
    wire_chamber(name)
    return firmware, controller


def assert_every_logged_point_arrived(web: WebApp, controller: ControllerProcess, since: int):
    """The web app holds exactly the points the controller logged: none lost, none extra."""

    def same() -> bool:
        stored = web.point_times(controller.name, since, int(time.time()) + 2)
        return stored == sorted(set(controller.logged_point_times())) and stored

    stored = eventually(same, 30, "the web app has every point the controller logged", every=1)
    assert len(stored) == len(controller.logged_point_times()), "a point was logged twice"


def wait_for_gap_annotations(web: WebApp, name: str, since: int) -> list[str]:
    def both() -> list[str] | None:
        texts = web.annotations(name, since, int(time.time()) + 2)
        lost = any(text.startswith("Lost the firmware link: ") for text in texts)
        back = any(text.startswith("Firmware link back after ") for text in texts)
        return texts if lost and back else None

    return eventually(both, 20, "the gap is annotated in the web app", every=0.5)


def test_a_killed_firmware_is_reported_annotated_and_found_again_when_it_restarts(home, web):
    since = int(time.time())
    firmware, controller = start_device(home, web, "fw-killed")
    try:
        firmware.kill()
        status = eventually(
            lambda: (
                "lost the link" in ((status := controller.status())["last_error"] or "") and status
            ),
            10,
            "the controller reports the link down, and why",
        )
        assert status["connected"] is False
        time.sleep(2)
        firmware.start()
        controller.wait_connected(timeout=15)
        texts = wait_for_gap_annotations(web, "fw-killed", since)
        assert any("Firmware link back after" in text for text in texts), dump(texts)
        assert_every_logged_point_arrived(web, controller, since)
    finally:
        controller.stop()
        firmware.stop()


def test_a_second_tcp_client_taking_the_firmware_makes_the_controller_reconnect(home, web):
    since = int(time.time())
    firmware, controller = start_device(home, web, "stolen")
    try:
        # The firmware serves one client at a time: a new one replaces the controller.
        thief = socket.create_connection(("127.0.0.1", firmware.port), timeout=10)
        wait_for_gap_annotations(web, "stolen", since)
        # The controller took it back, so the thief was dropped in turn.
        while thief.recv(65536):
            pass
        thief.close()
        assert controller.status()["connected"] is True
        assert_every_logged_point_arrived(web, controller, since)
    finally:
        controller.stop()
        firmware.stop()


def test_a_serial_port_that_goes_away_and_comes_back_is_reconnected(home, web):
    since = int(time.time())
    firmware, controller = start_device(home, web, "pty-gone", dialect="avr", pty=True)
    try:
        firmware.stop()  # the pseudo-terminal closes and its link disappears, as on unplugging
        eventually(
            lambda: controller.status()["connected"] is False, 10, "the lost port is noticed"
        )
        eventually(
            lambda: "cannot open the serial port" in (controller.status()["last_error"] or ""),
            10,
            "the controller keeps trying the port",
        )
        firmware.start()
        controller.wait_connected(timeout=15)
        wait_for_gap_annotations(web, "pty-gone", since)
        assert_every_logged_point_arrived(web, controller, since)
    finally:
        controller.stop()
        firmware.stop()


def test_points_logged_while_the_web_app_is_down_all_arrive_when_it_is_back(home, web):
    since = int(time.time())
    firmware, controller = start_device(home, web, "web-down")
    try:
        web.stop()
        down_at = len(controller.logged_point_times())
        eventually(
            lambda: len(controller.logged_point_times()) >= down_at + 2,
            25,
            "points are logged while the web app is away",
            every=1,
        )
        assert controller.status()["outbox_backlog"] >= 2
        assert controller.status()["connected"] is True  # control and logging went on
        web.start()
        assert_every_logged_point_arrived(web, controller, since)
        eventually(lambda: controller.status()["outbox_backlog"] == 0, 10, "the outbox drains")
    finally:
        controller.stop()
        firmware.stop()


def test_a_controller_killed_mid_batch_loses_and_duplicates_nothing_after_a_restart(home, web):
    name = "crash"
    firmware = Firmware(home, name).start()
    token = web.add_device(name, firmware.url)
    # Ten batches' worth of points, as if the web app had been away for hours.
    now = int(time.time())
    seeded = list(range(now - 12_000, now - 2_000))
    (home / "run").mkdir(exist_ok=True)
    outbox = Outbox(outbox_path(name))
    for ts in seeded:
        outbox.append("point", {"ts": ts, "beer_temp": 18.0, "state": 0, "temp_format": "C"})
    outbox.close()
    first = ControllerProcess(home, name, token, web.url, link=firmware.url).start()
    try:
        eventually(
            lambda: b'{"ack"' in outbox_path(name).read_bytes(),
            30,
            "the first batch is acknowledged",
            every=0.01,
        )
        first.kill()  # the next batch is on its way
        stored = web.point_times(name, seeded[0], now + 60)
        assert 0 < len(stored) < len(seeded), "killed before or after every batch"
        config.controller_socket_path(name).unlink(missing_ok=False)  # left by the kill
        second = ControllerProcess(home, name, token, web.url, link=firmware.url).start()
        try:
            second.wait_connected()
            eventually(lambda: second.status()["outbox_backlog"] == 0, 60, "the outbox drains")
            logged = set(first.logged_point_times())

            def expected() -> list[int]:
                return sorted(set(seeded) | logged | set(second.logged_point_times()))

            eventually(
                lambda: web.point_times(name, seeded[0], int(time.time()) + 2) == expected(),
                20,
                "the graph shows every seeded and logged point",
            )
            # The rows themselves: each point once.
            eventually(
                lambda: web.point_timestamps(name) == expected(), 20, "no point stored twice"
            )
        finally:
            second.stop()
    finally:
        first.kill()
        firmware.stop()
