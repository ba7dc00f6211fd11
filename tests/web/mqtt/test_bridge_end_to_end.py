"""The MQTT bridge end to end: the real web app, our firmware with a simulated chamber at
--speed, a real controller, a real mosquitto and the real `fermentrack manage mqtt_bridge`.

What Home Assistant would see (retained discovery configs, state, availability) is read by a
plain MQTT client; commands are published as Home Assistant publishes them. Each test run uses
its own base topic and discovery prefix, so runs sharing CI's broker never see each other's
retained messages.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid

import pytest

from controller.controller_rig import (
    FERMENTRACK,
    ControllerProcess,
    Firmware,
    WebApp,
    environment,
    eventually,
    outside_the_web_app,
)
from controller.fake_controller import short_home
from controller.web_app import free_port
from fermentrack.controller import client

from .mqtt_broker import Broker, Listener

NAME = "ferm-1"
SPEED = 60


class BridgeProcess:
    def __init__(self, home) -> None:
        self.home = home
        self.log_path = home / "mqtt-bridge.log"
        self.process: subprocess.Popen | None = None

    def start(self, tick_s: int = 1) -> BridgeProcess:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*FERMENTRACK, "manage", "mqtt_bridge"],
                env=environment(self.home, FERMENTRACK_MQTT_TICK_S=str(tick_s)),
                stdout=log,
                stderr=log,
            )
        return self

    def kill(self) -> None:
        """SIGKILL: no goodbye, as a crash or a power cut."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(autouse=True, scope="module")
def client_outside_the_web_app():
    """This test process talks to the chamber's controller as an onlooker, not as the web app."""
    with outside_the_web_app():
        yield


@pytest.fixture(scope="module")
def chamber(mqtt_broker: Broker):
    """The web app with MQTT on for this broker (commands accepted, acting as the admin), and a
    connected chamber holding its beer at 20 °C. Yields (web, base topic, discovery prefix)."""
    run = uuid.uuid4().hex[:8]
    base, prefix = f"test-{run}/fermentrack", f"test-{run}/homeassistant"
    with short_home() as home, pytest.MonkeyPatch.context() as patch:
        patch.setenv("FERMENTRACK_HOME", str(home))
        web = WebApp(home).start()
        firmware = Firmware(home, NAME, speed=SPEED, extra=["--fit-chamber", "20"])
        controller = None
        try:
            token = web.add_device(NAME, firmware.url)
            web.manage_shell(
                "from django.contrib.auth import get_user_model\n"
                "from fermentrack.web.mqtt.models import MqttSettings\n"
                "admin = get_user_model().objects.create_superuser("
                "'admin', 'a@example.com', 'hop-cone-fermenter-42')\n"
                "s = MqttSettings.load()\n"
                f"s.enabled, s.host, s.port = True, {mqtt_broker.host!r}, {mqtt_broker.port}\n"
                f"s.base_topic, s.discovery_prefix = {base!r}, {prefix!r}\n"
                "s.accept_commands, s.command_user = True, admin\n"
                "s.save()"
            )
            firmware.start()
            controller = ControllerProcess(home, NAME, token, web.url, link=firmware.url).start()
            controller.wait_connected()
            yield web, base, prefix
        finally:
            if controller is not None:
                controller.stop()
            firmware.stop()
            web.stop()


@pytest.fixture
def bridge(chamber):
    web, _, _ = chamber
    process = BridgeProcess(web.home).start()
    try:
        yield process
    finally:
        process.stop()
        print(f"--- the bridge's log ---\n{process.log()}")  # shown when the test failed


@pytest.fixture
def listener(mqtt_broker, chamber):
    _, base, prefix = chamber
    heard = Listener(mqtt_broker, [f"{base}/#", f"{prefix}/#"])
    try:
        yield heard
    finally:
        heard.close()


def config_topic(prefix: str, base: str, component: str, entity: str) -> str:
    return f"{prefix}/{component}/{base.replace('/', '_')}/{NAME}_{entity}/config"


def bridge_online(listener: Listener, base: str) -> None:
    """Wait for this bridge's `online`: what an earlier bridge left retained is `offline`, and
    the bridge subscribes before it says online, so commands published now reach it."""
    eventually(
        lambda: (heard := listener.last(f"{base}/status")) and heard.text == "online",
        20,
        "the bridge says online",
    )


def state_with(listener: Listener, base: str, check) -> dict:
    def latest():
        heard = listener.last(f"{base}/{NAME}/state")
        state = json.loads(heard.text) if heard and heard.text else None
        return state if state and check(state) else None

    return eventually(latest, 30, "the chamber's state as expected on MQTT")


def test_home_assistant_finds_the_chamber_its_state_and_the_bridge_online(
    mqtt_broker, chamber, bridge, listener
):
    _, base, prefix = chamber
    state = state_with(listener, base, lambda s: s["beer_temp"] is not None and s["connected"])
    status = client.status(NAME)
    assert state["mode"] == status["mode"] == "beer_constant"
    assert state["mode_name"] == "Beer constant"
    assert state["beer_set"] == status["beer_set"] == 20.0
    assert state["unit"] == "C" and state["problem"] is None
    assert 0 < state["beer_temp"] < 40 and state["fridge_temp"] is not None
    assert state["state"] in (
        "idle",
        "heating",
        "cooling",
        "waiting to cool",
        "waiting to heat",
        "waiting for peak",
        "cooling (minimum time)",
        "heating (minimum time)",
        "off",
    )

    # A client arriving later, as Home Assistant after a restart, gets everything retained.
    late = Listener(mqtt_broker, [f"{base}/#", f"{prefix}/#"])
    try:
        select = eventually(
            lambda: late.last(config_topic(prefix, base, "select", "mode")), 10, "the select"
        )
        assert late.last(f"{base}/status").text == "online"
        assert late.last(f"{base}/{NAME}/availability").text == "online"
        configs = [heard for heard in late.heard if heard.topic.startswith(f"{prefix}/")]
        assert len(configs) == 10, [heard.topic for heard in configs]
        assert all(heard.retain for heard in configs)
        assert late.last(f"{base}/{NAME}/state").retain
    finally:
        late.close()
    select = json.loads(select.text)
    assert select["options"] == ["Off", "Fridge constant", "Beer constant", "Beer profile"]
    assert select["command_topic"] == f"{base}/{NAME}/mode/set"
    assert select["device"]["identifiers"] == [f"{base.replace('/', '_')}_{NAME}"]
    beer = json.loads(late.last(config_topic(prefix, base, "sensor", "beer_temp")).text)
    assert beer["unit_of_measurement"] == "°C" and beer["device_class"] == "temperature"
    assert beer["state_topic"] == f"{base}/{NAME}/state"
    assert [entry["topic"] for entry in beer["availability"]] == [
        f"{base}/status",
        f"{base}/{NAME}/availability",
    ]
    number = json.loads(late.last(config_topic(prefix, base, "number", "beer_setting")).text)
    assert (number["min"], number["max"], number["step"]) == (-10.0, 60.0, 0.1)


def test_setpoints_and_modes_sent_over_mqtt_change_the_chamber(chamber, bridge, listener):
    _, base, _ = chamber
    bridge_online(listener, base)
    listener.publish(f"{base}/{NAME}/beer_setting/set", "18.5")
    eventually(lambda: client.status(NAME)["beer_set"] == 18.5, 15, "the beer setting is 18.5")
    state_with(listener, base, lambda s: s["beer_set"] == 18.5)

    listener.publish(f"{base}/{NAME}/mode/set", "Fridge constant")
    eventually(lambda: client.status(NAME)["mode"] == "fridge_constant", 15, "fridge constant mode")
    state_with(listener, base, lambda s: s["mode_name"] == "Fridge constant")

    listener.publish(f"{base}/{NAME}/fridge_setting/set", "4.5")
    eventually(lambda: client.status(NAME)["fridge_set"] == 4.5, 15, "the fridge setting is 4.5")
    assert client.status(NAME)["settings"]["fridgeSet"] == 4.5  # what the firmware echoed

    listener.publish(f"{base}/{NAME}/beer_setting/set", "20")  # back as the other tests expect
    eventually(lambda: client.status(NAME)["beer_set"] == 20.0, 15, "the beer setting is 20")


def test_bad_values_and_commands_while_they_are_off_are_refused_on_the_error_topic(
    chamber, bridge, listener
):
    web, base, prefix = chamber
    error_topic = f"{base}/{NAME}/error"
    bridge_online(listener, base)
    listener.publish(f"{base}/{NAME}/beer_setting/set", "99")
    refused = eventually(lambda: listener.last(error_topic), 15, "an answer on the error topic")
    assert refused.text == (
        f"beer_setting command for {NAME} refused: temperature: temperature 99 °C is out of "
        "range: expected -10.0 to 60.0 °C"
    )
    listener.publish(f"{base}/{NAME}/mode/set", "heat")
    eventually(lambda: "mode 'heat' is not one of" in listener.last(error_topic).text, 15, "")

    web.manage_shell(
        "from fermentrack.web.mqtt.models import MqttSettings\n"
        "MqttSettings.objects.filter(pk=1).update(accept_commands=False)"
    )
    try:
        # Without commands, Home Assistant gets no controls: the select's config is cleared.
        select = config_topic(prefix, base, "select", "mode")
        eventually(lambda: listener.last(select).text == "", 15, "the select is cleared")
        mode_sensor = config_topic(prefix, base, "sensor", "mode")
        eventually(lambda: listener.last(mode_sensor), 15, "a read-only mode sensor instead")
        listener.publish(f"{base}/{NAME}/beer_setting/set", "12")
        eventually(
            lambda: "commands from MQTT are turned off" in listener.last(error_topic).text,
            15,
            "the refusal of a command while commands are off",
        )
        assert client.status(NAME)["beer_set"] == 20.0
    finally:
        web.manage_shell(
            "from fermentrack.web.mqtt.models import MqttSettings\n"
            "MqttSettings.objects.filter(pk=1).update(accept_commands=True)"
        )
    assert "refused over MQTT (beer_setting '99'): beer_setting command for" in bridge.log()


def test_a_killed_bridge_is_announced_offline_by_the_broker_and_online_when_back(
    chamber, bridge, listener
):
    _, base, _ = chamber
    status = f"{base}/status"
    bridge_online(listener, base)
    bridge.kill()
    eventually(lambda: listener.last(status).text == "offline", 10, "the last will: offline")
    bridge.start()
    eventually(lambda: listener.last(status).text == "online", 20, "online again")
    # A clean stop sends no last will: the bridge says offline itself.
    assert bridge.stop() == 0
    eventually(lambda: listener.last(status).text == "offline", 5, "offline from a clean stop")


def test_a_device_made_inactive_has_its_discovery_configs_cleared(chamber, bridge, listener):
    web, base, prefix = chamber
    beer = config_topic(prefix, base, "sensor", "beer_temp")
    eventually(lambda: (heard := listener.last(beer)) and heard.text, 20, "the beer sensor")
    web.manage_shell(
        "from fermentrack.web.devices.models import Device\n"
        f"Device.objects.filter(name={NAME!r}).update(active=False)"
    )
    try:
        eventually(lambda: listener.last(beer).text == "", 15, "the beer sensor cleared")
        eventually(
            lambda: listener.last(f"{base}/{NAME}/state").text == "", 15, "the state cleared"
        )
        # The bridge clears one config after another: wait for the last of them.
        eventually(
            lambda: all(
                listener.last(heard.topic).text == ""
                for heard in listener.heard
                if heard.topic.startswith(f"{prefix}/")
            ),
            15,
            "every discovery config cleared",
        )
    finally:
        web.manage_shell(
            "from fermentrack.web.devices.models import Device\n"
            f"Device.objects.filter(name={NAME!r}).update(active=True)"
        )
    eventually(lambda: listener.last(beer).text != "", 15, "the beer sensor back")
    assert os.path.exists(bridge.log_path)


def bridge_fields(web: WebApp) -> dict:
    answer = web.manage_shell(
        "import json\n"
        "from fermentrack.web.mqtt.models import MqttSettings\n"
        "s = MqttSettings.load()\n"
        "print(json.dumps({'connected': s.connected, 'last_error': s.last_error}))"
    )
    return json.loads(answer.strip().splitlines()[-1])


def set_port(web: WebApp, port: int) -> None:
    web.manage_shell(
        "from fermentrack.web.mqtt.models import MqttSettings\n"
        f"MqttSettings.objects.filter(pk=1).update(port={port})"
    )


def test_a_broker_that_cannot_be_reached_is_reported_in_words_and_retried(
    mqtt_broker, chamber, bridge, listener
):
    web, base, _ = chamber
    bridge_online(listener, base)
    dead_port = free_port()  # nothing listens there
    set_port(web, dead_port)
    try:
        # The bridge notices the new settings by itself, says goodbye and tries the new port.
        eventually(lambda: listener.last(f"{base}/status").text == "offline", 15, "offline")
        fields = eventually(
            lambda: (fields := bridge_fields(web))["last_error"] and fields, 20, "the error"
        )
        assert fields == {
            "connected": False,
            "last_error": f"cannot reach the broker at {mqtt_broker.host}:{dead_port}: "
            "Connection refused",
        }
        # Meanwhile the web app and the controller carry on.
        assert client.status(NAME)["connected"]
    finally:
        set_port(web, mqtt_broker.port)
    bridge_online(listener, base)
    assert bridge_fields(web) == {"connected": True, "last_error": ""}
    assert bridge.process.poll() is None, "the bridge restarted itself, not the process"
    assert "the connection settings changed: restarting with the new ones" in bridge.log()


def test_turning_mqtt_off_clears_the_devices_from_home_assistant_when_the_spawner_stops_first(
    chamber, listener
):
    web, base, prefix = chamber
    beer = config_topic(prefix, base, "sensor", "beer_temp")
    # A bridge that reads its settings once a minute: the spawner (every 3 s) sees MQTT turned
    # off before it does, and stops it with SIGTERM.
    bridge = BridgeProcess(web.home).start(tick_s=60)
    try:
        eventually(lambda: bridge_fields(web)["connected"], 20, "the bridge connected")
        eventually(lambda: (heard := listener.last(beer)) and heard.text, 20, "the beer sensor")
        web.manage_shell(
            "from fermentrack.web.mqtt.models import MqttSettings\n"
            "MqttSettings.objects.filter(pk=1).update(enabled=False)"
        )
        assert bridge.stop() == 0
        eventually(lambda: listener.last(beer).text == "", 10, "the beer sensor cleared")
        assert listener.last(f"{base}/status").text == "offline"
    finally:
        bridge.stop()
        print(f"--- the bridge's log ---\n{bridge.log()}")
        web.manage_shell(
            "from fermentrack.web.mqtt.models import MqttSettings\n"
            "MqttSettings.objects.filter(pk=1).update(enabled=True)"
        )
