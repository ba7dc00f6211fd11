"""Fermentation-profile arithmetic: the beer setting at a moment, offsets as text, a summary.

A profile is a list of points (offset from the profile's start in seconds, temperature). Before
the first point the first temperature holds; between two points the setting moves in a straight
line; after the last point the last temperature holds. The web app and the controller both use
these functions, so they stay pure: no Django, no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

Point = tuple[int, float]

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
YEAR = 365 * DAY  # a profile "year" is 365 days, as in the original offsets

_UNIT_SECONDS = {"y": YEAR, "w": WEEK, "d": DAY, "h": HOUR, "m": MINUTE, "s": 1}
_NUMBER = r"\d+(?:\.\d*)?|\.\d+"
_PLAIN_DAYS = re.compile(rf"^({_NUMBER})$")
_PART = re.compile(rf"\s*({_NUMBER})\s*([ywdhms])", re.IGNORECASE)
OFFSET_EXAMPLE = '"3d 12h" (days and hours), "2d 6h 30m", or plain days such as "3.5"'


def parse_offset(text: str) -> int:
    """Seconds from the profile's start, from "3d 12h", "1w 2d", "90m", "3.5" (days) or "0".

    Units: y (365 days), w, d, h, m, s; each number may have decimals. ValueError otherwise,
    with a message that quotes the text and shows the expected form.
    """
    cleaned = (text or "").strip().lower()
    if not cleaned:
        raise ValueError(f"the offset is empty: write it like {OFFSET_EXAMPLE}")
    plain = _PLAIN_DAYS.match(cleaned)
    if plain:
        return round(float(plain.group(1)) * DAY)
    total = 0.0
    position = 0
    seen: set[str] = set()
    for match in _PART.finditer(cleaned):
        if match.start() != position:
            break
        unit = match.group(2)
        if unit in seen:
            raise ValueError(
                f"offset {text!r} names {unit!r} twice: write it like {OFFSET_EXAMPLE}"
            )
        seen.add(unit)
        total += float(match.group(1)) * _UNIT_SECONDS[unit]
        position = match.end()
    if position == 0 or cleaned[position:].strip():
        raise ValueError(f"offset {text!r} is not understood: write it like {OFFSET_EXAMPLE}")
    return round(total)


def format_offset(seconds: int) -> str:
    """The shortest exact text for an offset, in days, hours, minutes, seconds: "3d 12h".

    `parse_offset(format_offset(s)) == s` for every whole number of seconds s >= 0.
    """
    if seconds < 0:
        raise ValueError(f"offset {seconds} s is negative; a profile runs forward from its start")
    if seconds == 0:
        return "0h"
    parts = []
    for unit, size in (("d", DAY), ("h", HOUR), ("m", MINUTE), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts)


def duration_words(seconds: int) -> str:
    """An offset for people: "3 days", "1 day 12 hours", "45 minutes"."""
    if seconds <= 0:
        return "no time"
    words = []
    for name, size in (("day", DAY), ("hour", HOUR), ("minute", MINUTE), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            words.append(f"{count} {name}" + ("" if count == 1 else "s"))
    return " ".join(words)


def _sorted(points: Sequence[Point]) -> list[Point]:
    return sorted((int(offset), float(temperature)) for offset, temperature in points)


def setpoint_at(points: Sequence[Point], started_at: int, now: int) -> float | None:
    """The beer setting `now` (unix seconds) for a profile started at `started_at`.

    None when the profile has no points. The value is rounded to 0.01 degree, so a slow ramp
    changes the setting in small steps rather than on every call.
    """
    ordered = _sorted(points)
    if not ordered:
        return None
    elapsed = now - started_at
    first_offset, first_temperature = ordered[0]
    if elapsed <= first_offset:
        return round(first_temperature, 2)
    for (offset_a, temp_a), (offset_b, temp_b) in pairwise(ordered):
        if offset_a <= elapsed < offset_b:
            share = (elapsed - offset_a) / (offset_b - offset_a)
            return round(temp_a + (temp_b - temp_a) * share, 2)
    return round(ordered[-1][1], 2)


def _degrees(temperature: float, unit: str) -> str:
    return f"{temperature:.1f} °{unit}"


def summary(points: Sequence[Point], unit: str) -> str:
    """The profile in a sentence: "hold 18.0 °C for 3 days, ramp to 21.0 °C over 2 days, then
    hold". Consecutive holds at one temperature are told as one; a profile that ends on a hold
    ends "..., then stay there"."""
    ordered = _sorted(points)
    if not ordered:
        return "no points yet"
    # Segments: ("hold", temperature, seconds) or ("ramp", target temperature, seconds).
    segments: list[tuple[str, float, int]] = []
    if ordered[0][0] > 0:
        segments.append(("hold", ordered[0][1], ordered[0][0]))
    for (offset_a, temp_a), (offset_b, temp_b) in pairwise(ordered):
        kind = "hold" if temp_a == temp_b else "ramp"
        if kind == "hold" and segments and segments[-1][0] == "hold":
            segments[-1] = ("hold", temp_a, segments[-1][2] + offset_b - offset_a)
        else:
            segments.append((kind, temp_b, offset_b - offset_a))
    if not segments:
        return f"hold {_degrees(ordered[0][1], unit)}"
    phrases = []
    if segments[0][0] == "ramp":
        phrases.append(f"start at {_degrees(ordered[0][1], unit)}")
    for kind, temperature, seconds in segments:
        if kind == "hold":
            phrases.append(f"hold {_degrees(temperature, unit)} for {duration_words(seconds)}")
        else:
            phrases.append(f"ramp to {_degrees(temperature, unit)} over {duration_words(seconds)}")
    ending = "then hold" if segments[-1][0] == "ramp" else "then stay there"
    return ", ".join(phrases) + ", " + ending
