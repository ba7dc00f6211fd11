from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from .stack_rig import Stack


@pytest.fixture
def stack():
    """A stack in its own home (short: unix socket paths are at most 107 bytes); stopped, with
    everything it ran, after the test."""
    home = Path(tempfile.mkdtemp(prefix="fs-", dir="/tmp"))
    rig = Stack(home)
    try:
        yield rig
    finally:
        rig.stop()
        shutil.rmtree(home, ignore_errors=True)
