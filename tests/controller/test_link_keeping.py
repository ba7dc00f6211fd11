"""The controller keeps its firmware link honest: a firmware that falls silent with its TCP
connection still open is given up within three log intervals, the gap is annotated and the link
found again; a link edited in the web app is followed at once when the controller is told.

Whole processes: the web app, the controller (`fermentrack controller NAME`), and either a fake
firmware peer that can be told to stop answering, or two of our firmware processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from pathlib import Path

from fermentrack.controller import client
from fermentrack.controller.session import FirmwareSession

from .controller_rig import (
    ControllerProcess,
    Firmware,
    WebApp,
    chamber_definitions,
    dump,
    eventually,
)
from .fake_firmware import CONTROLLER_ANSWERS, FakeFirmwareThread, temperature_line

# The web app offers 10 s and up; a shorter interval, set in the database, keeps the watchdog's
# three intervals short. The controller takes any whole number of seconds from its config.
SHORT_INTERVAL_S = 2
SILENT_INTERVALS = 3  # the watchdog's rule in controller.py: no T: for 3 log intervals


def set_log_interval(web: WebApp, name: str, seconds: int) -> None:
    web.manage_shell(
        "from fermentrack.web.devices.models import Device\n"
        f"Device.objects.filter(name={name!r}).update(log_interval_s={seconds})"
    )


def silence(firmware: FakeFirmwareThread, silent: bool) -> None:
    """Make the fake firmware hang (its TCP connection stays open and takes every byte), or
    answer again."""
    firmware.call(lambda: setattr(firmware.peer, "silent", silent))


def wait_until_reported_lost(controller: ControllerProcess, interval_s: int) -> tuple[float, dict]:
    """How long after now the controller's status says connected=false, and that status."""
    silent_since = time.monotonic()
    status = eventually(
        lambda: (status := controller.status())["connected"] is False and status,
        SILENT_INTERVALS * interval_s + 5,
        "the silent firmware is reported as not connected",
        every=0.1,
    )
    return time.monotonic() - silent_since, status


def assert_noticed_within_three_intervals(noticed_after: float, interval_s: int, status: dict):
    limit_s = SILENT_INTERVALS * interval_s
    # The last T: came at most one interval before the silence began.
    assert limit_s - interval_s - 0.5 <= noticed_after <= limit_s + 1.5, dump(
        f"noticed {noticed_after:.2f} s after the firmware fell silent", status
    )
    assert (
        f"sent no temperatures for {limit_s} s ({SILENT_INTERVALS} log intervals)"
        in status["last_error"]
    ), dump(status)


def test_a_firmware_that_falls_silent_is_dropped_within_three_intervals_and_found_again(home, web):
    name = "silent"
    answers = {**CONTROLLER_ANSWERS, "t": temperature_line(18.5)}
    with FakeFirmwareThread(answers=answers) as firmware:
        token = web.add_device(name, firmware.url)
        set_log_interval(web, name, SHORT_INTERVAL_S)
        # The link comes from the config, so the interval is known before the first connection.
        controller = ControllerProcess(home, name, token, web.url).start()
        try:
            assert controller.wait_connected()["log_interval_s"] == SHORT_INTERVAL_S
            eventually(controller.logged_point_times, 10, "a first point is logged")

            silent_second = int(time.time())
            silence(firmware, True)
            noticed_after, status = wait_until_reported_lost(controller, SHORT_INTERVAL_S)
            assert_noticed_within_three_intervals(noticed_after, SHORT_INTERVAL_S, status)

            # It tries again by itself (a new connection) while the firmware is still silent.
            eventually(
                lambda: firmware.call(lambda: firmware.peer.connections) >= 2,
                10,
                "the controller reconnects to the silent firmware",
                every=0.1,
            )
            time.sleep(1)
            assert controller.status()["connected"] is False  # its handshake got no answer

            silence(firmware, False)
            answering_again = int(time.time())
            controller.wait_connected(timeout=15)
            eventually(
                lambda: [ts for ts in controller.logged_point_times() if ts >= answering_again],
                10,
                "points are logged again",
            )

            def gap_annotated() -> list[str] | None:
                texts = web.annotation_texts(name)
                lost = [text for text in texts if text.startswith("Lost the firmware link: ")]
                back = [text for text in texts if text.startswith("Firmware link back after ")]
                return texts if lost and back else None

            texts = eventually(gap_annotated, 15, "the gap is annotated in the web app")
            limit_s = SILENT_INTERVALS * SHORT_INTERVAL_S
            assert (
                f"Lost the firmware link: the firmware at {firmware.url} sent no temperatures "
                f"for {limit_s} s ({SILENT_INTERVALS} log intervals)"
            ) in texts, dump(texts)

            stored = eventually(
                lambda: (
                    (stored := web.point_timestamps(name))
                    and stored[-1] >= answering_again
                    and stored
                ),
                15,
                "the points after the gap reach the web app",
            )
            assert not [ts for ts in stored if silent_second + 2 <= ts < answering_again], (
                "a point while the firmware said nothing: " + dump(stored)
            )
            assert stored == sorted(set(controller.logged_point_times()))
            assert controller.process.poll() is None
        finally:
            assert controller.stop() == 0


def test_a_log_interval_shortened_while_connected_shortens_the_silence_watchdog_at_once(home, web):
    """The device polls every 10 s, then every 2 s (edited in the web app, config reloaded):
    a firmware falling silent after that is given up after 3 x 2 s, not 3 x 10 s."""
    name = "silent-short"
    answers = {**CONTROLLER_ANSWERS, "t": temperature_line(18.5)}
    with FakeFirmwareThread(answers=answers) as firmware:
        token = web.add_device(name, firmware.url)  # every 10 s
        controller = ControllerProcess(home, name, token, web.url).start()
        try:
            assert controller.wait_connected()["log_interval_s"] == 10
            set_log_interval(web, name, SHORT_INTERVAL_S)
            web.manage_shell(
                "from fermentrack.web.devices.models import Device\n"
                f"Device.objects.get(name={name!r}).bump_config_version()"
            )
            client.reload_config(name)
            assert controller.status()["log_interval_s"] == SHORT_INTERVAL_S
            polled = len(firmware.call(lambda: firmware.peer.sent_commands("t")))
            eventually(
                lambda: len(firmware.call(lambda: firmware.peer.sent_commands("t"))) >= polled + 2,
                3 * SHORT_INTERVAL_S,
                "the firmware is polled at the new interval",
                every=0.1,
            )

            silence(firmware, True)
            noticed_after, status = wait_until_reported_lost(controller, SHORT_INTERVAL_S)
            assert_noticed_within_three_intervals(noticed_after, SHORT_INTERVAL_S, status)
        finally:
            assert controller.stop() == 0


def wire_firmware(url: str) -> None:
    """Install the simulated chamber's devices in a firmware, talking to it directly."""

    async def wire() -> None:
        session = FirmwareSession(url, startup_delay_s=0)
        await session.connect()
        try:
            for definition in chamber_definitions():
                _, errors = await session.apply_device(definition)
                assert errors == [], errors
        finally:
            await session.close()

    asyncio.run(wire())


def chamber_at(home: Path, name: str, celsius: float) -> None:
    """A simulated room, beer and fridge all at `celsius`, so that its points tell it apart."""
    folder = home / "firmware" / name
    folder.mkdir(parents=True, exist_ok=True)
    scenario = {"room_min_c": celsius, "room_max_c": celsius}
    scenario |= {"beer_start_c": celsius, "fridge_start_c": celsius}
    (folder / "simulator.json").write_text(json.dumps(scenario))


def established_tcp_peer_ports(pid: int) -> set[int]:
    """The remote ports of a process's established TCP connections (Linux /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("tcp", "tcp6"):
        for row in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = row.split()
            remote, state, inode = fields[2], fields[3], fields[9]
            if state == "01" and inode in inodes:  # 01: ESTABLISHED
                ports.add(int(remote.rsplit(":", 1)[1], 16))
    return ports


def test_a_link_edited_in_the_web_app_is_followed_once_the_controller_reloads_its_config(home, web):
    name = "switch"
    chamber_at(home, "switch-cold", 5.0)
    chamber_at(home, "switch-warm", 35.0)
    cold = Firmware(home, "switch-cold").start()  # ESP over TCP
    warm = Firmware(home, "switch-warm", dialect="avr", pty=True).start()  # AVR on a serial port
    controller = None
    try:
        wire_firmware(cold.url)
        wire_firmware(warm.url)
        token = web.add_device(name, cold.url)
        controller = ControllerProcess(home, name, token, web.url).start()  # link from the config
        status = controller.wait_connected()
        assert (status["link"], status["firmware"]["dialect"]) == (cold.url, "esp")
        assert cold.port in established_tcp_peer_ports(controller.process.pid)

        def beer_temps() -> list[tuple[int, float | None]]:
            return [(point["ts"], point["beer_temp"]) for point in web.stored_points(name)]

        eventually(
            lambda: any(beer is not None and abs(beer - 5.0) < 1 for _, beer in beer_temps()),
            20,
            "a point from the cold chamber reaches the web app",
        )

        before = client.reload_config(name)["config_version"]
        web.manage_shell(
            "from fermentrack.web.devices.models import Device\n"
            f"device = Device.objects.get(name={name!r})\n"
            f"device.link = {warm.url!r}\n"
            "device.full_clean()\n"
            "device.save()\n"
            "device.bump_config_version()"
        )
        assert controller.status()["link"] == cold.url  # nothing changes until it is told
        switched_at = time.time()
        assert client.reload_config(name)["config_version"] == before + 1

        status = eventually(
            lambda: (
                (status := controller.status())["connected"]
                and status["link"] == warm.url
                and status["firmware"]["dialect"] == "avr"
                and status
            ),
            15,
            "the controller is connected to the second firmware",
            every=0.1,
        )
        assert status["firmware"] == {"version": "0.2.13", "board": "Arduino Uno", "dialect": "avr"}
        assert cold.port not in established_tcp_peer_ports(controller.process.pid), (
            "the first firmware's TCP connection is still open"
        )

        warm_points = eventually(
            lambda: [
                (ts, beer)
                for ts, beer in beer_temps()
                if ts >= int(switched_at) and beer is not None and abs(beer - 35.0) < 1
            ],
            20,
            "a point from the warm chamber reaches the web app",
        )
        first_warm = warm_points[0][0]
        points = beer_temps()
        assert all(abs(beer - 35.0) < 1 for ts, beer in points if ts >= first_warm), dump(points)
        assert all(abs(beer - 5.0) < 1 for ts, beer in points if ts < first_warm), dump(points)
        # The next poll after connecting (one a second at most: it may share the second of the
        # last point from the first firmware, and then wait an interval).
        assert first_warm - switched_at <= 10 + 2, "the first point from the new link came late"

        texts = web.annotation_texts(name)
        assert f"Lost the firmware link: the device's link changed to {warm.url}" in texts, dump(
            texts
        )
        assert controller.process.poll() is None
    finally:
        if controller is not None:
            assert controller.stop() == 0
        cold.stop()
        warm.stop()
