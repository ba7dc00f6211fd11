"""Shared fixtures for firmware tests: a board on simulated hardware whose output is captured."""

from __future__ import annotations

import pytest
from board_rig import CapturedBoard

from fermentrack.brewpi.temperature import Dialect
from fermentrack.firmware.main import build_board


@pytest.fixture(params=[Dialect.ESP, Dialect.AVR], ids=["esp", "avr"])
def dialect(request) -> Dialect:
    return request.param


@pytest.fixture
def make_board(tmp_path):
    made = []

    def make(dialect: Dialect = Dialect.ESP, folder=None) -> CapturedBoard:
        made.append(dialect)
        folder = folder or tmp_path / f"firmware-{len(made)}"
        return CapturedBoard(build_board(folder, dialect, "sim"))

    return make


@pytest.fixture
def board(make_board, dialect) -> CapturedBoard:
    return make_board(dialect)
