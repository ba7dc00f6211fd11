"""The four 20-character lines of the BrewPi LCD (brewpi-protocol §4.6), as the `l` command shows.

The degree sign is '°' here; the serial line carries it as byte 0xB0 (cp437).
"""

from __future__ import annotations

from fermentrack.brewpi.settings import ControlState, Mode
from fermentrack.brewpi.temperature import TempFormat, format_temperature

WIDTH = 20
ROOM_ALTERNATE_S = 8  # line 2 alternates between fridge and room every 8 s

MODE_TEXT = {
    Mode.FRIDGE_CONSTANT: "Fridge Const.",
    Mode.BEER_CONSTANT: "Beer Const.",
    Mode.BEER_PROFILE: "Beer Profile",
    Mode.OFF: "Off",
    Mode.TEST: "** Testing **",
}

STATE_TEXT = {
    ControlState.IDLE: "Idling for",
    ControlState.STATE_OFF: "Temp. control OFF",
    ControlState.DOOR_OPEN: "Door open",
    ControlState.HEATING: "Heating for",
    ControlState.COOLING: "Cooling for",
    ControlState.WAITING_TO_COOL: "Wait to Cool",
    ControlState.WAITING_TO_HEAT: "Wait to Heat",
    ControlState.WAITING_FOR_PEAK_DETECT: "Waiting for peak",
    ControlState.COOLING_MIN_TIME: "Cool time left",
    ControlState.HEATING_MIN_TIME: "Heat time left",
}


def format_duration(seconds: int) -> str:
    """`XhYYmZZ`, or `YYmZZ` under an hour (the DISPLAY_TIME_HMS builds)."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}"
    return f"{minutes:02d}m{secs:02d}"


def _temperature_line(label: str, value: int, setting: int | None, fmt: TempFormat) -> str:
    def field(temp: int | None) -> str:
        if temp is None:
            return " " * 5
        return (format_temperature(temp, fmt, 1) or "--.-").rjust(5)[-5:]

    return f"{label:<6}{field(value)} {field(setting)} °{fmt.value}"


def lcd_lines(
    *,
    mode: Mode,
    fmt: TempFormat,
    beer_temp: int,
    beer_set: int,
    fridge_temp: int,
    fridge_set: int,
    room_temp: int | None,
    state: ControlState,
    state_seconds: int | None,
    now: int,
) -> tuple[str, str, str, str]:
    """The LCD as four strings of exactly 20 characters.

    `room_temp` is None when no room sensor is installed; `state_seconds` is the time shown on
    the last line, or None for states that show none.
    """
    line0 = f"Mode   {MODE_TEXT.get(mode, '')}"
    line1 = _temperature_line("Beer", beer_temp, beer_set, fmt)
    if room_temp is not None and (now // ROOM_ALTERNATE_S) % 2 == 1:
        line2 = _temperature_line("Room", room_temp, None, fmt)
    else:
        line2 = _temperature_line("Fridge", fridge_temp, fridge_set, fmt)
    text = STATE_TEXT.get(state, "")
    time_text = "" if state_seconds is None else format_duration(state_seconds)
    line3 = text + time_text.rjust(WIDTH - len(text))
    return tuple(line[:WIDTH].ljust(WIDTH) for line in (line0, line1, line2, line3))  # type: ignore[return-value]
