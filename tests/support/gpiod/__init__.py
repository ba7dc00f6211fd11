"""A stand-in for libgpiod's Python bindings (`gpiod` 2.x), for machines with no GPIO chip.

Only what our Pi backend uses: `LineSettings`, `request_lines` and `gpiod.line`'s `Direction`
and `Value`. The "chip" is a folder: a missing folder is a missing chip (FileNotFoundError, as
the real one raises); each output level set is written to `levels.json` there, and inputs are
read from `inputs.json` (`{"24": true}`), so a test outside the process sees the relays and
works the door switch. Put `tests/support` on PYTHONPATH to use it.
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import dataclass
from pathlib import Path

from gpiod.line import Direction, Value

__all__ = ["LineSettings", "request_lines"]


@dataclass
class LineSettings:
    direction: Direction = Direction.INPUT
    output_value: Value = Value.INACTIVE


class LineRequest:
    def __init__(self, chip: Path, config: dict[int, LineSettings]) -> None:
        self._chip = chip
        self._levels = {
            pin: settings.output_value == Value.ACTIVE
            for pin, settings in config.items()
            if settings.direction == Direction.OUTPUT
        }
        self._write()

    def set_value(self, pin: int, value: Value) -> None:
        if pin not in self._levels:
            raise ValueError(f"line {pin} was not requested as an output")
        self._levels[pin] = value == Value.ACTIVE
        self._write()

    def get_value(self, pin: int) -> Value:
        try:
            inputs = json.loads((self._chip / "inputs.json").read_text())
        except FileNotFoundError:
            inputs = {}
        return Value.ACTIVE if inputs.get(str(pin)) else Value.INACTIVE

    def _write(self) -> None:
        staged = self._chip / "levels.json.new"
        staged.write_text(json.dumps({str(pin): high for pin, high in self._levels.items()}))
        os.replace(staged, self._chip / "levels.json")


def request_lines(chip: str, consumer: str, config: dict[int, LineSettings]) -> LineRequest:
    folder = Path(chip)
    if not folder.is_dir():
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), chip)
    return LineRequest(folder, config)
