"""The EEPROM file: written atomically, so a kill at any moment never leaves it half written."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

from fermentrack.brewpi.devices import DeviceFunction
from fermentrack.brewpi.settings import Mode, default_constants, default_settings
from fermentrack.brewpi.temperature import Dialect
from fermentrack.firmware.eeprom import Eeprom, EepromContents
from fermentrack.firmware.simulated_hardware import default_wiring

WRITER = """
import sys
from pathlib import Path
from fermentrack.brewpi.settings import default_constants, default_settings
from fermentrack.brewpi.temperature import Dialect
from fermentrack.firmware.eeprom import Eeprom, EepromContents
from fermentrack.firmware.simulated_hardware import default_wiring

eeprom = Eeprom(Path(sys.argv[1]))
settings = default_settings(Dialect.ESP)
contents = EepromContents(settings, default_constants(Dialect.ESP), default_wiring())
print("ready", flush=True)
n = 0
while True:
    n += 1
    settings.beer_set = -20000 + n % 5000
    eeprom.save(contents)
"""


def test_the_eeprom_survives_a_kill_at_a_random_moment(tmp_path):
    rng = random.Random(1234)
    for attempt in range(25):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.08))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        contents = Eeprom(tmp_path).load()
        if contents is None:
            # Killed before its first write finished: there must be no file at all.
            assert not (tmp_path / "eeprom.json").exists(), f"attempt {attempt}: half a file"
            continue
        assert -20000 <= contents.settings.beer_set < -15000, f"attempt {attempt}"
        assert len(contents.devices) == len(default_wiring())


def test_settings_constants_and_devices_round_trip_through_the_file(tmp_path):
    settings = default_settings(Dialect.AVR)
    settings.mode = Mode.BEER_PROFILE
    contents = EepromContents(settings, default_constants(Dialect.AVR), default_wiring())
    Eeprom(tmp_path).save(contents)
    loaded = Eeprom(tmp_path).load()
    assert loaded == contents
    assert loaded.settings.mode is Mode.BEER_PROFILE
    assert loaded.devices[1].function is DeviceFunction.BEER_TEMP


def test_an_unreadable_eeprom_starts_the_firmware_in_safe_mode(make_board, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "eeprom.json").write_text('{"format_version": 1, "settings": {"mode": "b"')
    board = make_board(Dialect.AVR, folder=folder)
    assert board.board.safe_mode
    assert board.board.control.settings.mode is Mode.OFF
    assert board.ask("d{}") == ["d:[]"]


def test_an_eeprom_of_another_format_is_not_trusted(tmp_path):
    (tmp_path / "eeprom.json").write_text('{"format_version": 99}')
    assert Eeprom(tmp_path).load() is None


def test_files_a_restore_put_in_place_are_never_overwritten_by_the_firmware_still_running(
    make_board, tmp_path
):
    # A restore writes the firmware's files while the old firmware runs; the spawner replaces
    # it seconds later. Whatever it would still store (a setting, its simulated beer on the way
    # out) must not undo the restore.
    folder = tmp_path / "fridge-1"
    board = make_board(folder=folder)
    board.board.store()
    board.board.save_simulator_state()
    restored_eeprom = '{"restored": "eeprom"}'
    restored_state = '{"restored": "state"}'
    for name, text in (("eeprom.json", restored_eeprom), ("simulator-state.json", restored_state)):
        replacement = folder / f".{name}.restore"
        replacement.write_text(text)
        replacement.replace(folder / name)

    board.ask('j{"mode": "b", "beerSet": 21.5}')
    board.board.store()
    board.board.save_simulator_state()

    assert (folder / "eeprom.json").read_text() == restored_eeprom
    assert (folder / "simulator-state.json").read_text() == restored_state


def test_the_firmware_keeps_storing_its_own_files_when_nobody_else_touches_them(
    make_board, tmp_path
):
    folder = tmp_path / "fridge-1"
    board = make_board(folder=folder)
    board.ask('j{"mode": "b", "beerSet": 21.5}')
    first = (folder / "eeprom.json").read_text()
    board.ask('j{"beerSet": 17.0}')
    second = (folder / "eeprom.json").read_text()
    assert '"mode": "b"' in first and second != first
    board.board.save_simulator_state()
    state = (folder / "simulator-state.json").read_text()
    board.board.tick()
    board.board.save_simulator_state()
    assert (folder / "simulator-state.json").read_text() != state
