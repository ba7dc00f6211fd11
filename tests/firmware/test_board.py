"""The firmware as a controller sees it: every command of §3 answered per dialect."""

from __future__ import annotations

import json

import pytest

from fermentrack.brewpi.commands import encode_command
from fermentrack.brewpi.messages import (
    ConstantsReport,
    DeviceListReport,
    DeviceUpdateReport,
    HardwareReport,
    LcdReport,
    SettingsReport,
    TemperatureReport,
    VersionInfo,
    parse_line,
)
from fermentrack.brewpi.settings import ControlState, Mode
from fermentrack.brewpi.temperature import Dialect, TempFormat, temp_from_celsius
from fermentrack.firmware.first_start import wire_and_start
from fermentrack.firmware.simulated_hardware import COOLER_PIN, default_wiring, probe_address


def parsed(board, lines):
    return [parse_line(line, board.board.dialect) for line in lines]


def test_version_reply_is_accepted_by_the_scripts_version_rules(board):
    (line,) = board.ask("n")
    version = parse_line(line, board.board.dialect)
    assert isinstance(version, VersionInfo)
    major, minor, patch = (int(part) for part in version.version.split("."))
    assert (0, 2, 4) <= (major, minor, patch) < (0, 4, 0)
    assert version.log_version == 3
    assert version.simulator is True


def test_every_repeated_version_request_is_answered(board):
    lines = board.ask("nnn\n")
    assert len(lines) == 3 and all(line.startswith("N:") for line in lines)


def test_a_blank_eeprom_boots_in_safe_mode_with_mode_off_and_no_devices(make_board, dialect):
    board = make_board(dialect)
    settings = parse_line(board.ask("s")[0], dialect)
    assert settings.settings.mode is Mode.OFF
    assert board.ask("d{}") == ["d:[]"]


def test_avr_reports_state_idle_while_off_and_esp_reports_state_off(make_board):
    for dialect, expected in (
        (Dialect.AVR, ControlState.IDLE),
        (Dialect.ESP, ControlState.STATE_OFF),
    ):
        board = make_board(dialect)
        board.run(3)
        report = parse_line(board.ask("t")[0], dialect)
        assert report.state == expected, dialect


def test_setting_beer_constant_echoes_settings_then_constants_with_an_annotation(board):
    lines = board.ask('j{mode:"b", beerSet:20.0}\n')
    messages = parsed(board, lines)
    assert isinstance(messages[-2], SettingsReport)
    assert isinstance(messages[-1], ConstantsReport)
    assert messages[-2].settings.mode is Mode.BEER_CONSTANT
    assert messages[-2].settings.beer_set == temp_from_celsius(20.0)
    annotations = [m.beer_annotation for m in messages if isinstance(m, TemperatureReport)]
    assert any(note and note.startswith("Beer temp set to 20.0") for note in annotations)


def test_avr_sends_info_12_for_each_received_setting(make_board):
    board = make_board(Dialect.AVR)
    lines = board.ask('j{mode:"b", beerSet:20.0}\n')
    assert lines[0] == 'D:{"logType":"I","logID":12,"V":["mode","b"]}'
    assert 'D:{"logType":"I","logID":12,"V":["beerSet","20.0"]}' in lines


def test_avr_accepts_unquoted_values_and_esp_refuses_them(make_board):
    avr = make_board(Dialect.AVR)
    avr.ask("j{mode:f,fridgeSet:4}")
    assert parse_line(avr.ask("s")[0], Dialect.AVR).settings.mode is Mode.FRIDGE_CONSTANT
    esp = make_board(Dialect.ESP)
    lines = esp.ask("j{mode:f}")
    assert lines and lines[0].startswith("Error deserializing JSON data")
    assert parse_line(esp.ask("s")[0], Dialect.ESP).settings.mode is Mode.OFF


def test_an_unknown_setting_key_gets_warning_0_and_the_rest_still_applies(board):
    lines = board.ask('j{bogus:"1",beerSet:18}')
    assert 'D:{"logType":"W","logID":0,"V":[]}' in lines
    settings = parse_line(
        next(line for line in lines if line.startswith("S:")), board.board.dialect
    )
    assert settings.settings.beer_set == temp_from_celsius(18.0)


def test_switching_to_fahrenheit_reexpresses_constants(make_board):
    board = make_board(Dialect.AVR)
    lines = board.ask('j{tempFormat:"F"}')
    constants_line = lines[-1]
    assert '"tempSetMin": 33.8' in constants_line and '"pidMax": 18.000' in constants_line
    assert '"idleRangeH": 1.801' in constants_line


def test_default_settings_and_constants_commands_answer_with_their_info_message(board):
    lines = board.ask("S")
    assert lines[0].startswith("S:") and '"logID":14' in lines[1]
    lines = board.ask("C")
    assert lines[0].startswith("C:") and '"logID":13' in lines[1]


def test_esp_refuses_an_unconfirmed_eeprom_reset_and_avr_resets_on_bare_e(make_board):
    esp = make_board(Dialect.ESP)
    esp.ask('j{mode:"b",beerSet:18}')
    assert esp.ask("E{}") == ['D:{"logType":"E","logID":23,"V":[]}']
    assert esp.ask('E{"confirmReset":true}')[-1] == 'D:{"logType":"I","logID":15,"V":[]}'
    avr = make_board(Dialect.AVR)
    wire_and_start(avr.board, 19.0)
    assert avr.ask("E") == ['D:{"logType":"I","logID":15,"V":[]}']
    assert avr.ask("d{}") == ["d:[]"]


def test_installing_devices_is_stored_and_listed_with_values(board):
    wire_and_start(board.board, 19.0)
    (line,) = board.ask("d{r:1,v:1}")
    listing = parse_line(line, board.board.dialect)
    assert isinstance(listing, DeviceListReport)
    assert len(listing.devices) == len(default_wiring())
    sensors = [d for d in listing.devices if d.address]
    assert {d.address for d in sensors} == {probe_address(n) for n in ("fridge", "beer", "room")}
    assert all(d.value is not None for d in listing.devices)


def test_a_device_on_a_pin_that_is_not_a_onewire_bus_is_refused_with_error_3_and_9(board):
    lines = board.ask(
        encode_command("U", {"i": 0, "f": 9, "h": 2, "p": COOLER_PIN, "a": probe_address("beer")})
    )
    assert '"logID":3' in lines[0] and '"logID":9' in lines[1]
    update = parse_line(lines[-1], board.board.dialect)
    assert isinstance(update, DeviceUpdateReport)
    assert board.ask("d{}") == ["d:[]"]


def test_the_same_hardware_cannot_hold_two_slots(board):
    wire_and_start(board.board, 19.0)
    lines = board.ask(encode_command("U", {"i": 9, "f": 7, "h": 1, "p": COOLER_PIN, "x": 1}))
    assert any('"logID":12' in line for line in lines)


def test_hardware_listing_shows_pins_and_every_probe_with_its_slot(board):
    wire_and_start(board.board, 19.0)
    (line,) = board.ask("h{v:1}")
    listing = parse_line(line, board.board.dialect)
    assert isinstance(listing, HardwareReport)
    probes = {d.address: d.slot for d in listing.devices if d.address}
    assert probes[probe_address("beer")] == 1
    unused = parse_line(board.ask("h{u:1}")[0], board.board.dialect)
    assert all(d.slot == -1 for d in unused.devices)


def test_the_lcd_has_four_lines_of_twenty_characters_with_the_degree_byte(board):
    lines = board.ask("l")
    lcd = parse_line(lines[0], board.board.dialect)
    assert isinstance(lcd, LcdReport)
    assert all(len(line) == 20 for line in lcd.lines)
    assert lcd.lines[1].endswith("°C")


def test_garbage_is_answered_as_the_dialect_does_and_serving_goes_on(make_board):
    avr = make_board(Dialect.AVR)
    assert avr.ask("X") == ['D:{"logType":"W","logID":1,"V":[88]}']
    assert avr.ask("n")[0].startswith("N:")
    esp = make_board(Dialect.ESP)
    assert esp.ask("G") == ['Invalid command received "G" (0x47)']
    assert esp.ask("n")[0].startswith("N:")


def test_a_state_change_sends_an_unsolicited_temperature_line(board):
    wire_and_start(board.board, 10.0)
    lines = board.run(900)
    reports = [line for line in lines if line.startswith("T:")]
    assert reports, "no T: line in 900 s although the beer at 20 °C must be cooled to 10 °C"


def test_the_door_opening_is_annotated_and_turns_on_no_output_by_itself(board):
    wire_and_start(board.board, 20.0)
    board.run(5)
    board.board.simulator.add_fault("door_open", 30)
    lines = board.run(40)
    notes = [
        parse_line(line, board.board.dialect).fridge_annotation
        for line in lines
        if line.startswith("T:")
    ]
    assert "Fridge door opened" in notes and "Fridge door closed" in notes


def test_settings_survive_a_reboot_and_nothing_switches_in_the_first_600_seconds(board):
    wire_and_start(board.board, 4.0)
    board.run(1200)
    board.ask("R")
    assert board.board.control.settings.mode is Mode.BEER_CONSTANT
    for _ in range(600):
        board.board.tick()
        assert not board.board.control.cooler.active
        assert not board.board.control.heater.active


def test_test_mode_lets_outputs_be_driven_by_hand(board):
    wire_and_start(board.board, 20.0)
    board.ask('j{mode:"t"}')
    board.ask("d{i:3,w:1}")  # slot 3 holds the cooler
    board.run(5)
    assert board.board.control.cooler.active
    assert board.board.hardware.read_output(COOLER_PIN) is False  # active low: pulled down


def test_the_simulator_can_be_changed_and_dumped_over_the_protocol(board):
    lines = board.ask('y{"room_min_c":10,"room_max_c":10}')
    dump = json.loads(lines[0][2:])
    assert dump["scenario"]["room_min_c"] == 10
    lines = board.ask('y{"no_such_setting":1}')
    if board.board.dialect is Dialect.ESP:
        assert "no_such_setting" in lines[0]
    else:
        assert lines == ['D:{"logType":"W","logID":0,"V":[]}']


@pytest.mark.parametrize("speed_days", [2])
def test_beer_constant_pulls_a_warm_beer_to_its_setting(make_board, speed_days):
    board = make_board(Dialect.ESP)
    wire_and_start(board.board, 17.0)
    board.run(speed_days * 86400)
    beer = board.board.simulator.beer_temperature
    assert abs(beer - 17.0) < 0.5, beer


def test_fahrenheit_controllers_report_temperatures_in_fahrenheit(make_board):
    board = make_board(Dialect.AVR)
    wire_and_start(board.board, 20.0)
    board.ask('j{tempFormat:"F"}')
    board.run(10)
    report = parse_line(board.ask("t")[0], Dialect.AVR, TempFormat.FAHRENHEIT)
    assert report.beer_set == temp_from_celsius(20.0)
    assert '"BeerSet": 68.00' in board.ask("t")[0]


def test_a_restarted_firmware_finds_its_simulated_beer_where_it_left_it(make_board, tmp_path):
    folder = tmp_path / "restart"
    first = make_board(Dialect.ESP, folder=folder)
    wire_and_start(first.board, 12.0)
    first.run(2 * 86400)
    first.board.save_simulator_state()
    beer, gravity = first.board.simulator.beer_temperature, first.board.simulator.gravity
    second = make_board(Dialect.ESP, folder=folder)
    assert second.board.simulator.beer_temperature == pytest.approx(beer, abs=1e-6)
    assert second.board.simulator.gravity == pytest.approx(gravity, abs=2e-4)
    assert second.board.simulator.elapsed_s == first.board.simulator.elapsed_s
