"""The state payload of a chamber."""

from __future__ import annotations

from fermentrack.mqtt.state import HydrometerReading, Temperatures, chamber_state

NAMES = {0: "idle", 4: "cooling"}
POINT = Temperatures(
    ts=1000,
    beer_temp=19.8,
    fridge_temp=17.2,
    room_temp=None,
    beer_set=19.0,
    fridge_set=17.0,
    state=0,
)
RED = HydrometerReading(key="7", name="Red", gravity=1.0452, unit="SG", battery=None, ts=990)


def test_the_state_joins_the_controllers_answer_the_latest_point_and_the_hydrometers():
    status = {
        "connected": True,
        "mode": "beer_constant",
        "beer_set": 20.0,
        "fridge_set": 18.5,
        "state": 4,
    }
    state = chamber_state(
        unit="C", status=status, temperatures=POINT, hydrometers=[RED], state_names=NAMES
    )
    assert state == {
        "connected": True,
        "mode": "beer_constant",
        "mode_name": "Beer constant",
        "beer_temp": 19.8,
        "beer_set": 20.0,
        "fridge_temp": 17.2,
        "fridge_set": 18.5,
        "room_temp": None,
        "state": "cooling",
        "unit": "C",
        "temperatures_ts": 1000,
        "hydrometers": {
            "7": {"name": "Red", "gravity": 1.0452, "unit": "SG", "battery": None, "ts": 990}
        },
        "problem": None,
    }


def test_an_unreachable_controller_leaves_the_last_point_and_says_why():
    state = chamber_state(
        unit="C",
        status=None,
        temperatures=POINT,
        hydrometers=[],
        state_names=NAMES,
        problem="the controller is not running",
    )
    assert state["connected"] is False and state["mode"] is None and state["mode_name"] is None
    assert state["beer_set"] == 19.0 and state["state"] == "idle"
    assert state["problem"] == "the controller is not running"


def test_a_controller_without_its_firmware_says_so():
    status = {"connected": False, "last_error": "firmware not connected", "mode": None}
    state = chamber_state(
        unit="F", status=status, temperatures=None, hydrometers=[], state_names={}
    )
    assert state["problem"] == "firmware not connected"
    assert state["beer_temp"] is None and state["temperatures_ts"] is None


def test_a_mode_the_select_does_not_offer_is_still_named():
    status = {"connected": True, "mode": "test"}
    state = chamber_state(
        unit="C", status=status, temperatures=None, hydrometers=[], state_names={}
    )
    assert state["mode_name"] == "Test"
