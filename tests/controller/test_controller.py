"""The controller as a whole process, between our firmware and the real web app.

Handshake and logging end to end, every socket command through client.py, hardware setup, and a
profile run through its end. The firmware runs at --speed; devices log every 10 s.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time

import pytest

from fermentrack.controller import client
from fermentrack.controller.client import ControllerError

from .controller_rig import (
    FERMENTRACK,
    ControllerProcess,
    Firmware,
    WebApp,
    dump,
    environment,
    eventually,
    wire_chamber,
)


def device_status(web: WebApp, name: str) -> str:
    """What the web app keeps of the controller's last status report."""
    return web.manage_shell(
        "from fermentrack.web.devices.models import Device\n"
        f"print(Device.objects.get(name={name!r}).status)"
    )


def test_the_controller_takes_its_link_from_the_web_app_and_every_point_reaches_the_graph(
    home, web
):
    started = int(time.time())
    firmware = Firmware(home, "logger").start()
    token = web.add_device("logger", firmware.url)
    controller = ControllerProcess(home, "logger", token, web.url).start()  # no link given
    try:
        status = controller.wait_connected()
        assert status["link"] == firmware.url
        assert status["log_interval_s"] == 10
        assert status["firmware"]["dialect"] == "esp"
        wire_chamber("logger")
        client.set_mode("logger", "beer_constant", 19.0)

        def graph_points() -> list[int]:
            graph = web.graph("logger", started, int(time.time()) + 1)
            return [
                ts
                for ts, beer in zip(graph["t"], graph["beer_temp"], strict=True)
                if beer is not None
            ]

        # Points from the firmware's own T: lines come at once; a polled one after an interval.
        eventually(
            lambda: [ts for ts in graph_points() if ts >= started + 10],
            30,
            "a polled point with a beer temperature",
        )
        logged = controller.logged_point_times()
        eventually(
            lambda: set(logged) <= set(web.point_times("logger", started, int(time.time()) + 1)),
            15,
            "every point the controller logged is in the web app",
        )
        graph = web.graph("logger", started, int(time.time()) + 1)
        assert graph["temp_format"] == "C"
        assert graph["beer_set"][-1] == 19.0
        texts = web.annotations("logger", started, int(time.time()) + 1)
        assert "Connected to firmware 0.2.4 (ESP8266) at " + firmware.url in texts
        assert "Beer temp set to 19.0 in web interface" in texts, texts
        reported = device_status(web, "logger")
        assert "'connected': True" in reported and "'mode': 'beer_constant'" in reported
    finally:
        stopped = controller.stop()
        firmware.stop()  # whatever the controller did
        assert stopped == 0
    assert "the controller stopped" in device_status(web, "logger")


@pytest.fixture(scope="module")
def fahrenheit(home, web):
    """An AVR firmware on a pseudo-terminal, for a device kept in °F."""
    firmware = Firmware(home, "avr-f", dialect="avr", pty=True).start()
    token = web.run(
        "device", "add", "avr-f", "--link", firmware.url, "--interval", "10", "--format", "F"
    ).strip()
    controller = ControllerProcess(home, "avr-f", token, web.url, link=firmware.url).start()
    try:
        eventually(
            lambda: (client.status("avr-f")["constants"] or {}).get("tempFormat") == "F",
            20,
            "the firmware prints in the device's unit",
        )
        yield controller
    finally:
        controller.stop()
        firmware.stop()


def test_set_mode_answers_with_the_settings_the_firmware_echoed(fahrenheit):
    answer = client.set_mode("avr-f", "beer_constant", 66.2)
    assert answer["mode"] == "beer_constant"
    assert answer["beer_set"] == 66.2
    assert answer["settings"]["mode"] == "b"
    answer = client.set_mode("avr-f", "fridge_constant", 39.0)
    assert (answer["mode"], answer["fridge_set"]) == ("fridge_constant", 39.0)
    assert client.set_mode("avr-f", "off")["mode"] == "off"
    status = client.status("avr-f")
    assert status["mode"] == "off"
    assert status["settings"]["mode"] == "o"
    assert status["firmware"] == {"version": "0.2.13", "board": "Arduino Uno", "dialect": "avr"}


def test_profile_mode_needs_a_running_profile(fahrenheit):
    with pytest.raises(ControllerError, match="no profile is active for this device"):
        client.set_mode("avr-f", "profile")


def test_set_constants_answers_the_new_constants_in_the_devices_unit(fahrenheit):
    answer = client.set_constants("avr-f", {"Kp": 4.5, "idleRangeH": 1.5, "tempSetMax": 80.0})
    constants = answer["constants"]
    assert (constants["Kp"], constants["tempSetMax"]) == (4.5, 80.0)
    assert constants["idleRangeH"] == pytest.approx(1.5, abs=0.005)  # 1/512 °C steps, in °F
    assert client.status("avr-f")["constants"]["Kp"] == 4.5
    with pytest.raises(ControllerError, match="tempFormat follows the device's unit"):
        client.set_constants("avr-f", {"tempFormat": "C"})


def test_refresh_reads_everything_again(fahrenheit):
    answer = client.refresh("avr-f")
    assert set(answer) >= {"settings", "constants", "variables", "lcd", "devices"}
    assert answer["constants"]["tempFormat"] == "F"
    assert answer["lcd"][1].endswith("°F")


def test_reload_config_fetches_the_web_apps_config_now(fahrenheit, web):
    before = client.reload_config("avr-f")["config_version"]
    web.manage_shell(
        "from fermentrack.web.devices.models import Device\n"
        "Device.objects.get(name='avr-f').bump_config_version()"
    )
    assert client.reload_config("avr-f")["config_version"] == before + 1
    assert client.status("avr-f")["config_version"] == before + 1


def test_hardware_is_listed_assigned_inverted_and_uninstalled_with_errors_in_words(fahrenheit):
    hardware = client.scan_hardware("avr-f")["hardware"]
    probes = [item for item in hardware if item["h"] == 2]
    pins = [item["p"] for item in hardware if item["h"] == 1]
    assert len(probes) == 3 and all(isinstance(probe["v"], float) for probe in probes)
    assert {5, 6} <= set(pins)
    beer_probe = probes[1]

    answer = client.apply_device(
        "avr-f", {**beer_probe, "i": 1, "f": 9, "b": 1, "j": 0.5}
    )  # a listing's item comes back with a function: the round trip a page makes
    assert answer["errors"] == []
    assert (answer["definition"]["f"], answer["definition"]["a"]) == (9, beer_probe["a"])
    assert answer["definition"]["j"] == pytest.approx(0.5, abs=0.12)  # stored in 1/16 °C
    installed = client.list_devices("avr-f")["devices"]
    assert [(d["i"], d["f"]) for d in installed] == [(1, 9)]
    assert isinstance(installed[0]["v"], float)  # the beer temperature, in °F

    heater = {"i": 2, "c": 1, "b": 0, "f": 2, "h": 1, "p": 6, "x": 0}
    assert client.apply_device("avr-f", heater)["definition"]["x"] == 0
    assert client.apply_device("avr-f", heater | {"x": 1})["definition"]["x"] == 1

    refused = client.apply_device("avr-f", {"i": 3, "f": 9, "h": 1, "p": 5, "b": 1})
    assert refused["errors"] == [
        "Device definition update is invalid",
        "Cannot assign device type 1 to hardware 1",
    ]
    assert refused["definition"]["f"] == 0  # the slot is unchanged

    assert client.apply_device("avr-f", {"i": 1, "f": 0})["errors"] == []
    assert [d["i"] for d in client.list_devices("avr-f")["devices"]] == [2]


def test_reset_eeprom_brings_back_the_firmwares_defaults_and_the_devices_unit(fahrenheit, web):
    since = int(time.time())
    client.set_mode("avr-f", "beer_constant", 64.0)
    answer = client.reset_eeprom("avr-f")
    assert answer["settings"]["mode"] == "o"
    assert client.list_devices("avr-f")["devices"] == []
    eventually(
        lambda: client.status("avr-f")["constants"]["tempFormat"] == "F",
        10,
        "the device's unit is set again after the reset",
    )
    # The firmware's own D: message and the controller's note both reach the graph.
    eventually(
        lambda: (
            {
                "EEPROM initialised",
                "Firmware reset to its defaults (EEPROM) from the web app",
            }
            <= set(web.annotations("avr-f", since, int(time.time()) + 2))
        ),
        15,
        "the reset is annotated",
    )


def test_a_new_config_version_is_fetched_after_the_next_status_report(fahrenheit, web):
    web.manage_shell(
        "from fermentrack.web.devices.models import Device\n"
        "device = Device.objects.get(name='avr-f')\n"
        "device.log_interval_s = 30\n"
        "device.save()\n"
        "device.bump_config_version()"
    )
    # No reload_config: the answer to a status report (one every poll) says what changed.
    eventually(
        lambda: client.status("avr-f")["log_interval_s"] == 30, 15, "the new interval is used"
    )


def test_a_controller_that_cannot_even_start_exits_non_zero_saying_why(home):
    def run(**env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*FERMENTRACK, "controller", "nope"],
            env=environment(home, FERMENTRACK_API_URL="http://127.0.0.1:9", **env),
            capture_output=True,
            text=True,
            timeout=30,
        )

    no_token = run()
    assert no_token.returncode == 1
    assert "FERMENTRACK_DEVICE_TOKEN is not set" in no_token.stderr
    bad_link = run(FERMENTRACK_DEVICE_TOKEN="t", FERMENTRACK_DEVICE_LINK="usb://fridge")
    assert bad_link.returncode == 1
    assert "cannot run: link 'usb://fridge': expected a tcp://, serial://" in bad_link.stderr

    # A firmware of the newer BrewPi protocol: retrying would never help.
    server = socket.create_server(("127.0.0.1", 0))

    def answer_as_newer_firmware() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(100)
            connection.sendall(b'N:{"v":"0.4.1","n":"x","s":0,"y":0,"b":"y","l":"3"}\r\n')
            connection.recv(100)

    threading.Thread(target=answer_as_newer_firmware, daemon=True).start()
    newer = run(
        FERMENTRACK_DEVICE_TOKEN="t",
        FERMENTRACK_DEVICE_LINK=f"tcp://127.0.0.1:{server.getsockname()[1]}",
    )
    server.close()
    assert newer.returncode == 1
    assert "firmware 0.4.1 speaks the newer BrewPi protocol" in newer.stderr


def test_a_profile_runs_through_its_end_hands_over_to_beer_constant_and_is_shown_done(home, web):
    firmware = Firmware(home, "prof").start()
    token = web.add_device("prof", firmware.url)
    controller = ControllerProcess(home, "prof", token, web.url, link=firmware.url).start()
    try:
        controller.wait_connected()
        wire_chamber("prof")
        # Hold 18 °C, step to 21 °C after 8 s, end at 15 s.
        started = time.time()
        profile_id = web.start_profile("prof", [(0, 18.0), (8, 18.0), (9, 21.0), (15, 21.0)])
        client.reload_config("prof")  # as the profile's start page does
        answer = client.set_mode("prof", "profile")
        assert (answer["mode"], answer["beer_set"]) == ("profile", 18.0)
        status = client.status("prof")
        assert status["profile"]["id"] == profile_id

        def settings() -> dict:
            return client.status("prof")["settings"]

        eventually(lambda: settings()["beerSet"] == 21.0, 12, "the step to 21 °C is sent")
        assert settings()["mode"] == "p"
        assert time.time() - started >= 8  # the start time is kept in whole seconds
        eventually(lambda: settings()["mode"] == "b", 12, "the hand-over to beer constant")
        assert settings()["beerSet"] == 21.0
        assert time.time() - started >= 14
        finished = f"Profile {profile_id} finished; holding 21.0 °C"
        texts = eventually(
            lambda: (
                finished
                in (texts := web.annotations("prof", int(started) - 5, int(time.time()) + 5))
                and texts
            ),
            15,
            "the hand-over is annotated in the web app",
        )
        assert "Beer temp set to 21.0 by temperature profile" in texts, dump(texts)
        assert eventually(
            lambda: web.active_profile("prof") is None, 15, "the web app shows the profile done"
        )
        assert client.status("prof")["profile"] is None  # the controller fetched the new config
    finally:
        stopped = controller.stop()
        firmware.stop()  # whatever the controller did
        assert stopped == 0
