"""What the bridge reads for one device: its controller, its latest log point, its hydrometers
(no broker needed: nothing is published here)."""

from __future__ import annotations

from fermentrack.web.beers.models import LogPoint
from fermentrack.web.gravity.models import GravityReading, GravitySensor
from fermentrack.web.mqtt.bridge import Bridge
from fermentrack.web.mqtt.models import MqttSettings


def reading(sensor, ts, **fields) -> GravityReading:
    return GravityReading.objects.create(sensor=sensor, device=sensor.device, ts=ts, **fields)


def test_the_state_carries_the_latest_point_and_each_hydrometers_latest_counted_gravity(
    commanding, device, fake_controller
):
    LogPoint.objects.create(
        device=device, ts=100, beer_temp=19.6, fridge_temp=17.0, room_temp=21.0, state=4
    )
    LogPoint.objects.create(device=device, ts=50, beer_temp=30.0)
    red = GravitySensor.objects.create(
        name="Red Tilt", kind="tiltbridge", colour="Red", device=device, expected_interval_s=900
    )
    reading(red, 10, gravity=1.050, battery=None)
    reading(red, 20, gravity=1.048, battery=None)
    reading(red, 30, gravity=1.090, outlier=True)  # a spike: not shown
    plato = GravitySensor.objects.create(
        name="Spindel",
        kind="ispindel",
        name_on_device="sp",
        device=device,
        expected_interval_s=900,
        display_unit="plato",
    )
    reading(plato, 40, gravity=1.040, battery=3.9)
    GravitySensor.objects.create(name="Elsewhere", kind="manual", expected_interval_s=900)

    chamber, state, online = Bridge(MqttSettings.load())._read(device)

    assert online is True
    assert (state["beer_temp"], state["fridge_temp"], state["room_temp"]) == (19.6, 17.0, 21.0)
    assert state["temperatures_ts"] == 100
    assert state["state"] == "idle"  # the controller's answer beats the older point
    assert state["mode_name"] == "Beer constant" and state["beer_set"] == 19.0
    assert state["hydrometers"] == {
        str(red.pk): {
            "name": "Red Tilt",
            "gravity": 1.048,
            "unit": "SG",
            "battery": None,
            "ts": 20,
        },
        str(plato.pk): {"name": "Spindel", "gravity": 9.99, "unit": "°P", "battery": 3.9, "ts": 40},
    }
    assert [(h.name, h.gravity_unit, h.has_battery) for h in chamber.hydrometers] == [
        ("Red Tilt", "SG", False),
        ("Spindel", "°P", True),
    ]
    assert chamber.setpoint_range == (-10.0, 60.0) and chamber.temp_format == "C"


def test_a_controller_that_is_not_running_makes_the_device_unavailable(
    commanding, device, monkeypatch, tmp_path
):
    monkeypatch.setenv("FERMENTRACK_HOME", str(tmp_path))  # no socket there
    _, state, online = Bridge(MqttSettings.load())._read(device)
    assert online is False and state["connected"] is False
    assert state["problem"].startswith("the controller ")
