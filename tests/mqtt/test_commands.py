"""What a command's payload means."""

from __future__ import annotations

import pytest

from fermentrack.mqtt.commands import CommandRefused, parse_mode, parse_temperature


@pytest.mark.parametrize(
    ("payload", "mode"),
    [
        (b"Off", "off"),
        (b"beer constant", "beer_constant"),
        (b"Fridge constant", "fridge_constant"),
        (b"Beer profile", "profile"),
        (b"fridge_constant", "fridge_constant"),
        (b" PROFILE ", "profile"),
        (b'"Beer constant"', "beer_constant"),
    ],
)
def test_a_mode_is_named_by_its_label_or_its_key(payload, mode):
    assert parse_mode(payload) == mode


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"heat", "mode 'heat' is not one of Off, Fridge constant, Beer constant, Beer profile"),
        (b"test", "is not one of"),
        (b"", "the payload is empty"),
        (b"\xff\xfe", "not UTF-8"),
        (b"x" * 65, "at most 64"),
    ],
)
def test_an_unknown_mode_is_refused_in_words(payload, words):
    with pytest.raises(CommandRefused, match=words):
        parse_mode(payload)


@pytest.mark.parametrize(
    ("payload", "text"),
    [(b"19.5", "19.5"), (b"20", "20"), (b" -2.0 ", "-2.0"), (b"1e1", "10.0")],
)
def test_a_temperature_is_a_number(payload, text):
    assert parse_temperature(payload, "beer setting") == text


@pytest.mark.parametrize("payload", [b"warm", b"nan", b"inf", b"true", b"[19]", b"{}", b"19,5"])
def test_anything_else_is_not_a_temperature(payload):
    with pytest.raises(CommandRefused, match=r"beer setting .* is not a temperature: expected"):
        parse_temperature(payload, "beer setting")
