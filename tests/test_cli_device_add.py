"""`fermentrack device add`: a device from a script, its token printed once and stored hashed."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("home")


def fermentrack(home, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "FERMENTRACK_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "fermentrack.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def rows(home, query: str, *params) -> list[tuple]:
    with sqlite3.connect(home / "fermentrack.sqlite3") as database:
        return database.execute(query, params).fetchall()


def test_adding_a_simulated_device_migrates_a_new_home_and_prints_the_token_once(home):
    result = fermentrack(home, "device", "add", "sim-1", "--simulated")
    assert result.returncode == 0, result.stderr
    (token,) = result.stdout.splitlines()
    assert len(token) >= 40
    assert "shown only this once" in result.stderr
    ((link, simulated, token_hash, dialect, interval, unit),) = rows(
        home,
        "SELECT link, simulated, token_hash, dialect, log_interval_s, temp_format "
        "FROM devices_device WHERE name = ?",
        "sim-1",
    )
    assert (link, simulated, dialect, interval, unit) == ("", 1, "esp", 30, "C")
    assert token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_adding_a_device_with_a_link_and_options(home):
    result = fermentrack(
        home,
        "device",
        "add",
        "fridge-1",
        "--link",
        "tcp://192.168.1.20:23",
        "--dialect",
        "avr",
        "--interval",
        "60",
        "--format",
        "F",
    )
    assert result.returncode == 0, result.stderr
    assert rows(
        home,
        "SELECT link, simulated, dialect, log_interval_s, temp_format FROM devices_device "
        "WHERE name = ?",
        "fridge-1",
    ) == [("tcp://192.168.1.20:23", 0, "avr", 60, "F")]


def test_a_duplicate_name_exits_1_with_one_line(home):
    fermentrack(home, "device", "add", "dup-1", "--simulated")
    result = fermentrack(home, "device", "add", "dup-1", "--simulated")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "fermentrack device add: a device named 'dup-1' already exists\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["My Fridge", "--simulated"],
            "device name 'My Fridge' may hold only a-z, 0-9 and '-', start with a letter or "
            "digit, and be at most 48 characters",
        ),
        (
            ["bad-link", "--link", "http://x"],
            "link 'http://x' must start with tcp://, serial:// or serial-by-id://, "
            "e.g. tcp://192.168.1.20:23 or serial:///dev/ttyUSB0",
        ),
        (
            ["bad-interval", "--simulated", "--interval", "45"],
            "log interval 45 s is not one of 10, 30, 60, 120, 300, 600, 1800, 3600 seconds",
        ),
    ],
)
def test_a_bad_request_exits_1_with_one_clear_line(home, args, message):
    result = fermentrack(home, "device", "add", *args)
    assert result.returncode == 1
    assert result.stderr == f"fermentrack device add: {message}\n"


def test_a_link_or_firmware_on_this_computer_is_required(home):
    result = fermentrack(home, "device", "add", "nothing")
    assert result.returncode == 2
    assert "one of the arguments --link --simulated --pi-gpio is required" in result.stderr


def test_one_chamber_at_a_time_may_use_this_pis_pins(home):
    first = fermentrack(home, "device", "add", "keezer", "--pi-gpio")
    assert first.returncode == 0, first.stderr
    assert rows(
        home, "SELECT pi_gpio, simulated, link FROM devices_device WHERE name = ?", "keezer"
    ) == [(1, 0, "")]

    second = fermentrack(home, "device", "add", "fridge-9", "--pi-gpio")

    assert second.returncode == 1
    assert second.stderr == (
        "fermentrack device add: keezer already uses this Pi's pins: one chamber at a time can "
        "(deactivate or change it first)\n"
    )
