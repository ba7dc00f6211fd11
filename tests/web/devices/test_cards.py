"""The wording of a device's card, and the plain functions behind the device pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fermentrack.controller.client import ControllerError, ControllerUnavailable
from fermentrack.web.devices import cards, control
from fermentrack.web.devices.models import Device

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds_ago", "text"),
    [
        (0, "just now"),
        (4, "just now"),
        (40, "40 s ago"),
        (180, "3 min ago"),
        (3599, "59 min ago"),
        (3600, "1 h ago"),
        (2 * 3600 + 5 * 60, "2 h 5 min ago"),
        (30 * 3600, "30 h ago"),
        (5 * 86400, "5 days ago"),
    ],
)
def test_last_seen_reads_as_a_time_ago(seconds_ago, text):
    assert cards.last_seen_text(NOW - timedelta(seconds=seconds_ago), NOW) == text


def test_a_controller_that_never_reported_was_last_seen_never():
    assert cards.last_seen_text(None, NOW) == "never"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(10, "10 s"), (30, "30 s"), (60, "1 min"), (1800, "30 min"), (3600, "1 h")],
)
def test_log_intervals_read_as_times(seconds, text):
    assert cards.interval_text(seconds) == text


def device(**fields) -> Device:
    values = {"name": "fridge-1", "log_interval_s": 30, "last_seen_at": NOW, "status": {}}
    values.update(fields)
    return Device(**values)


def test_a_controller_is_silent_after_three_missed_intervals():
    assert cards.device_warnings(device(last_seen_at=NOW - timedelta(seconds=90)), NOW) == []
    assert cards.device_warnings(device(last_seen_at=NOW - timedelta(seconds=91)), NOW) == [
        "The controller has not reported for 1 min; it should report every 30 s."
    ]


def test_a_switched_off_device_says_so_instead_of_warning_about_silence():
    stale = device(active=False, last_seen_at=NOW - timedelta(days=3))
    assert cards.device_warnings(stale, NOW) == [
        "This device is switched off: no controller runs for it."
    ]


@pytest.mark.parametrize(
    ("mode", "name", "key"),
    [
        ("beer_constant", "Beer constant", "beer_constant"),
        ("b", "Beer constant", "beer_constant"),
        ("f", "Fridge constant", "fridge_constant"),
        ("profile", "Beer profile", "profile"),
        ("o", "Off", "off"),
        (None, "unknown", None),
        ("dance", "dance", None),
    ],
)
def test_modes_read_in_words_from_either_spelling(mode, name, key):
    assert cards.mode_name(mode) == name
    assert cards.mode_key(mode) == key


@pytest.mark.parametrize(
    ("state", "name"), [(0, "idle"), (4, "cooling"), ("5", "waiting to cool"), (None, "unknown")]
)
def test_control_states_read_in_words(state, name):
    assert cards.state_name(state) == name


def test_problem_messages_say_whether_the_change_was_sent():
    fridge = device()
    assert (
        control.problem_message(fridge, ControllerUnavailable("fridge-1", "is not running"))
        == "The controller of fridge-1 is not running; the change was not sent."
    )
    hung = ControllerUnavailable(
        "fridge-1", "did not answer within 3 s (it may be stuck)", sent=True
    )
    assert control.problem_message(fridge, hung) == (
        "The controller of fridge-1 did not answer within 3 s (it may be stuck); "
        "the change may not have been made."
    )
    refused = ControllerError("fridge-1", "firmware not connected")
    assert control.problem_message(fridge, refused) == (
        "The controller of fridge-1 refused the change: firmware not connected."
    )


@pytest.mark.django_db
def test_start_beer_refuses_a_name_the_device_already_used():
    fridge = Device.objects.create(name="fridge-1", simulated=True)
    control.start_beer(fridge, "Stout", now=1_700_000_000)
    with pytest.raises(ValueError, match="fridge-1 already has a beer named 'Stout'"):
        control.start_beer(fridge, "Stout", now=1_700_000_100)
