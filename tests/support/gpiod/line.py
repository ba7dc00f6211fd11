"""`gpiod.line` of the stand-in: the two enumerations our Pi backend uses."""

from __future__ import annotations

from enum import Enum


class Direction(Enum):
    INPUT = "input"
    OUTPUT = "output"


class Value(Enum):
    INACTIVE = 0
    ACTIVE = 1
