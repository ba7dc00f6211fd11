"""Home Assistant discovery payloads, exactly, for one chamber."""

from __future__ import annotations

from fermentrack.mqtt.discovery import Chamber, Hydrometer, device_configs
from fermentrack.mqtt.topics import Topics

TOPICS = Topics("fermentrack", "homeassistant")
RED = Hydrometer(key="7", name='Red "Tilt" {{ 1 }}', gravity_unit="SG", has_battery=True)
CHAMBER = Chamber(
    name="fridge-1",
    temp_format="C",
    setpoint_range=(-10.0, 60.0),
    firmware_version="0.15.0",
    hydrometers=(RED,),
)
DEVICE = {
    "identifiers": ["fermentrack_fridge-1"],
    "name": "fridge-1",
    "manufacturer": "Fermentrack",
    "model": "Fermentation chamber",
    "sw_version": "0.15.0",
}
BOTH = {
    "availability": [
        {
            "topic": "fermentrack/status",
            "payload_available": "online",
            "payload_not_available": "offline",
        },
        {
            "topic": "fermentrack/fridge-1/availability",
            "payload_available": "online",
            "payload_not_available": "offline",
        },
    ],
    "availability_mode": "all",
}
PREFIX = "homeassistant"


def config(component: str, entity: str) -> str:
    return f"{PREFIX}/{component}/fermentrack/fridge-1_{entity}/config"


def test_a_chamber_with_commands_has_sensors_a_mode_select_and_setpoint_numbers():
    configs = device_configs(TOPICS, CHAMBER, commands=True)
    assert list(configs) == [
        config("sensor", "beer_temp"),
        config("sensor", "fridge_temp"),
        config("sensor", "room_temp"),
        config("sensor", "beer_set"),
        config("sensor", "fridge_set"),
        config("sensor", "control_state"),
        config("binary_sensor", "connected"),
        config("sensor", "gravity_7"),
        config("sensor", "battery_7"),
        config("select", "mode"),
        config("number", "beer_setting"),
        config("number", "fridge_setting"),
    ]
    for payload in configs.values():
        assert payload["device"] == DEVICE
        assert payload["state_topic"] == "fermentrack/fridge-1/state"


def test_the_beer_temperature_sensor_payload():
    assert device_configs(TOPICS, CHAMBER, commands=True)[config("sensor", "beer_temp")] == {
        "name": "Beer temperature",
        "unique_id": "fermentrack_fridge-1_beer_temp",
        "state_topic": "fermentrack/fridge-1/state",
        "device_class": "temperature",
        "unit_of_measurement": "°C",
        "suggested_display_precision": 1,
        "state_class": "measurement",
        "value_template": "{{ value_json.beer_temp }}",
        **BOTH,
        "device": DEVICE,
    }


def test_the_mode_select_offers_the_four_modes_in_the_device_pages_words():
    select = device_configs(TOPICS, CHAMBER, commands=True)[config("select", "mode")]
    assert select == {
        "name": "Mode",
        "unique_id": "fermentrack_fridge-1_mode",
        "state_topic": "fermentrack/fridge-1/state",
        "icon": "mdi:cog",
        "command_topic": "fermentrack/fridge-1/mode/set",
        "options": ["Off", "Fridge constant", "Beer constant", "Beer profile"],
        "value_template": "{{ value_json.mode_name }}",
        **BOTH,
        "device": DEVICE,
    }


def test_the_setpoint_numbers_take_the_device_pages_range_in_the_devices_unit():
    fahrenheit = Chamber("f-1", "F", (14.0, 140.0))
    number = device_configs(TOPICS, fahrenheit, commands=True)[
        f"{PREFIX}/number/fermentrack/f-1_fridge_setting/config"
    ]
    assert {key: number[key] for key in ("min", "max", "step", "mode", "unit_of_measurement")} == {
        "min": 14.0,
        "max": 140.0,
        "step": 0.1,
        "mode": "box",
        "unit_of_measurement": "°F",
    }
    assert number["command_topic"] == "fermentrack/f-1/fridge_setting/set"
    assert number["value_template"] == "{{ value_json.fridge_set }}"
    assert "sw_version" not in number["device"]


def test_a_hydrometers_name_is_shown_as_given_and_never_reaches_a_template_or_topic():
    configs = device_configs(TOPICS, CHAMBER, commands=False)
    gravity = configs[config("sensor", "gravity_7")]
    assert gravity["name"] == 'Red "Tilt" {{ 1 }} gravity'
    assert gravity["unique_id"] == "fermentrack_fridge-1_gravity_7"
    assert gravity["value_template"] == (
        "{{ value_json.hydrometers['7'].gravity if value_json.hydrometers['7'] is defined "
        "else None }}"
    )
    assert gravity["unit_of_measurement"] == "SG"
    assert gravity["suggested_display_precision"] == 3
    battery = configs[config("sensor", "battery_7")]
    assert battery["device_class"] == "voltage" and battery["unit_of_measurement"] == "V"


def test_a_hydrometer_without_a_known_battery_has_no_battery_sensor():
    plato = Hydrometer(key="9", name="iSpindel", gravity_unit="°P", has_battery=False)
    configs = device_configs(
        TOPICS, Chamber("f", "C", (-10.0, 60.0), None, (plato,)), commands=True
    )
    assert f"{PREFIX}/sensor/fermentrack/f_gravity_9/config" in configs
    assert f"{PREFIX}/sensor/fermentrack/f_battery_9/config" not in configs
    assert (
        configs[f"{PREFIX}/sensor/fermentrack/f_gravity_9/config"]["suggested_display_precision"]
        == 1
    )


def test_without_commands_the_mode_is_a_read_only_sensor_and_there_are_no_numbers():
    configs = device_configs(TOPICS, CHAMBER, commands=False)
    components = {topic.split("/")[1] for topic in configs}
    assert components == {"sensor", "binary_sensor"}
    assert configs[config("sensor", "mode")]["value_template"] == "{{ value_json.mode_name }}"
    assert not any("command_topic" in payload for payload in configs.values())


def test_controller_connected_needs_only_the_bridge_to_be_online():
    connected = device_configs(TOPICS, CHAMBER, commands=True)[config("binary_sensor", "connected")]
    assert [entry["topic"] for entry in connected["availability"]] == ["fermentrack/status"]
    assert connected["device_class"] == "connectivity"
    assert connected["value_template"] == "{{ 'ON' if value_json.connected else 'OFF' }}"
