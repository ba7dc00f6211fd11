"""Home Assistant MQTT discovery: the retained config payloads that make a chamber appear there
as one device with its sensors, a select for the mode and numbers for the setpoints.

Every entity reads the chamber's one state topic through a value template, and is available
while both the bridge (`<base>/status`) and the chamber's controller (`<base>/<device>/
availability`) say online, except "controller connected", which needs the bridge only.
"""

from __future__ import annotations

from dataclasses import dataclass

from fermentrack.mqtt.state import MODE_LABELS
from fermentrack.mqtt.topics import COMMANDS, OFFLINE, ONLINE, Topics

MANUFACTURER = "Fermentrack"
MODEL = "Fermentation chamber"
SETPOINT_STEP = 0.1


@dataclass(frozen=True)
class Hydrometer:
    key: str  # stable and id-safe: the sensor's number
    name: str
    gravity_unit: str  # "SG" or "°P"
    has_battery: bool


@dataclass(frozen=True)
class Chamber:
    name: str  # the device name: a slug, so it is safe in topics and ids as it is
    temp_format: str  # "C" or "F"
    setpoint_range: tuple[float, float]  # in temp_format
    firmware_version: str | None = None
    hydrometers: tuple[Hydrometer, ...] = ()


def device_block(topics: Topics, chamber: Chamber) -> dict:
    block = {
        "identifiers": [topics.device_id(chamber.name)],
        "name": chamber.name,
        "manufacturer": MANUFACTURER,
        "model": MODEL,
    }
    if chamber.firmware_version:
        block["sw_version"] = chamber.firmware_version
    return block


def _availability(topics: Topics, chamber: Chamber, *, controller: bool = True) -> dict:
    topics_needed = [topics.status] + ([topics.availability(chamber.name)] if controller else [])
    return {
        "availability": [
            {"topic": topic, "payload_available": ONLINE, "payload_not_available": OFFLINE}
            for topic in topics_needed
        ],
        "availability_mode": "all",
    }


def _temperature(unit: str) -> dict:
    return {
        "device_class": "temperature",
        "unit_of_measurement": f"°{unit}",
        "suggested_display_precision": 1,
    }


def device_configs(topics: Topics, chamber: Chamber, *, commands: bool) -> dict[str, dict]:
    """Every discovery config of `chamber`, by config topic. With `commands`, the mode is a
    select and the setpoints are numbers too; without, the mode is a read-only sensor."""
    name, unit = chamber.name, chamber.temp_format
    block = device_block(topics, chamber)
    configs: dict[str, dict] = {}

    def add(component: str, entity: str, fields: dict, *, controller: bool = True) -> None:
        configs[topics.config(component, name, entity)] = {
            "name": fields.pop("name"),
            "unique_id": topics.unique_id(name, entity),
            "state_topic": topics.state(name),
            **fields,
            **_availability(topics, chamber, controller=controller),
            "device": block,
        }

    for entity, label in (
        ("beer_temp", "Beer temperature"),
        ("fridge_temp", "Fridge temperature"),
        ("room_temp", "Room temperature"),
    ):
        add(
            "sensor",
            entity,
            {
                "name": label,
                **_temperature(unit),
                "state_class": "measurement",
                "value_template": f"{{{{ value_json.{entity} }}}}",
            },
        )
    for entity, label in (("beer_set", "Beer setting"), ("fridge_set", "Fridge setting")):
        add(
            "sensor",
            entity,
            {
                "name": label,
                **_temperature(unit),
                "value_template": f"{{{{ value_json.{entity} }}}}",
            },
        )
    add(
        "sensor",
        "control_state",
        {
            "name": "Control state",
            "icon": "mdi:thermostat",
            "value_template": "{{ value_json.state }}",
        },
    )
    add(
        "binary_sensor",
        "connected",
        {
            "name": "Controller connected",
            "device_class": "connectivity",
            "entity_category": "diagnostic",
            "payload_on": "ON",
            "payload_off": "OFF",
            "value_template": "{{ 'ON' if value_json.connected else 'OFF' }}",
        },
        controller=False,
    )
    for hydrometer in chamber.hydrometers:
        key = hydrometer.key
        reading = f"value_json.hydrometers['{key}']"
        add(
            "sensor",
            f"gravity_{key}",
            {
                "name": f"{hydrometer.name} gravity",
                "icon": "mdi:beer",
                "unit_of_measurement": hydrometer.gravity_unit,
                "state_class": "measurement",
                "suggested_display_precision": 3 if hydrometer.gravity_unit == "SG" else 1,
                "value_template": f"{{{{ {reading}.gravity if {reading} is defined else None }}}}",
            },
        )
        if hydrometer.has_battery:
            add(
                "sensor",
                f"battery_{key}",
                {
                    "name": f"{hydrometer.name} battery",
                    "device_class": "voltage",
                    "unit_of_measurement": "V",
                    "entity_category": "diagnostic",
                    "suggested_display_precision": 2,
                    "value_template": (
                        f"{{{{ {reading}.battery if {reading} is defined else None }}}}"
                    ),
                },
            )
    if not commands:
        add(
            "sensor",
            "mode",
            {"name": "Mode", "icon": "mdi:cog", "value_template": "{{ value_json.mode_name }}"},
        )
        return configs
    add(
        "select",
        "mode",
        {
            "name": "Mode",
            "icon": "mdi:cog",
            "command_topic": topics.command(name, COMMANDS[0]),
            "options": list(MODE_LABELS.values()),
            "value_template": "{{ value_json.mode_name }}",
        },
    )
    low, high = chamber.setpoint_range
    for entity, command, label in (
        ("beer_setting", COMMANDS[1], "Beer setpoint"),
        ("fridge_setting", COMMANDS[2], "Fridge setpoint"),
    ):
        add(
            "number",
            entity,
            {
                "name": label,
                "command_topic": topics.command(name, command),
                "min": low,
                "max": high,
                "step": SETPOINT_STEP,
                "mode": "box",
                "device_class": "temperature",
                "unit_of_measurement": f"°{unit}",
                "value_template": f"{{{{ value_json.{entity.replace('setting', 'set')} }}}}",
            },
        )
    return configs
