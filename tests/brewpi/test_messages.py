"""Firmware -> controller lines: exact text per dialect (the [run] lines) and tolerant reading."""

import pytest

from fermentrack.brewpi.devices import DeviceDefinition, DeviceFunction, DeviceHardware
from fermentrack.brewpi.errors import ProtocolError
from fermentrack.brewpi.log_messages import LogMessage
from fermentrack.brewpi.messages import (
    ConstantsReport,
    DeviceListReport,
    ExtendedSettingsReport,
    LcdReport,
    ProbeNamesReport,
    ProbeReadingsReport,
    RawText,
    SettingsReport,
    SimulatorReport,
    TemperatureReport,
    VariablesReport,
    VersionInfo,
    WifiReport,
    decode_wire_text,
    encode_line,
    encode_wire_text,
    parse_line,
    strip_log_messages,
)
from fermentrack.brewpi.settings import (
    ControlVariables,
    Mode,
    default_constants,
    default_settings,
)
from fermentrack.brewpi.temperature import (
    DISABLED_TEMP,
    INVALID_TEMP,
    Dialect,
    TempFormat,
    temp_from_celsius,
)

AVR, ESP = Dialect.AVR, Dialect.ESP
C, F = TempFormat.CELSIUS, TempFormat.FAHRENHEIT

RUN_N = 'N:{"v":"0.2.13","n":"da7e14a9","s":2,"y":0,"b":"s","l":"3"}'
RUN_T = (
    'T:{"BeerTemp":null,"BeerSet": 20.00,"BeerAnn":null,"FridgeTemp":null,'
    '"FridgeSet": 10.00,"FridgeAnn":null,"State":0}'
)
RUN_S = 'S:{"mode":"b","beerSet": 20.00,"fridgeSet": 10.00,"heatEst": 0.199,"coolEst": 5.000}'
RUN_C = (
    'C:{"tempFormat":"C","tempSetMin": 1.0,"tempSetMax": 30.0,"pidMax": 10.000,"Kp": 5.000,'
    '"Ki": 0.250,"Kd": 1.500,"iMaxErr": 0.500,"idleRangeH": 1.000,"idleRangeL":-1.000,'
    '"heatTargetH": 0.301,"heatTargetL":-0.199,"coolTargetH": 0.199,"coolTargetL":-0.301,'
    '"maxHeatTimeForEst":600,"maxCoolTimeForEst":1200,"fridgeFastFilt":1,"fridgeSlowFilt":4,'
    '"fridgeSlopeFilt":3,"beerFastFilt":3,"beerSlowFilt":4,"beerSlopeFilt":4,"lah":0,"hs":0}'
)
RUN_L = (
    'L:["Mode   Off          ","Beer   --.-  --.- °C","Fridge --.-  --.- °C",'
    '"Idling for     00m26"]'
)
RUN_D_LINES = [
    'D:{"logType":"I","logID":12,"V":["beerSet","20.0"]}',
    'D:{"logType":"W","logID":1,"V":[88]}',
    'D:{"logType":"E","logID":10,"V":[10]}',
    'D:{"logType":"W","logID":3,"V":[]}',
]
RUN_D_LIST = 'd:[{"i":0,"t":3,"c":1,"b":0,"f":3,"h":1,"d":0,"p":5,"v":0,"x":1}]'


def avr_run_settings():
    settings = default_settings(AVR)
    settings.mode = Mode.BEER_CONSTANT
    settings.beer_set = temp_from_celsius(20.0)
    settings.fridge_set = temp_from_celsius(10.0)
    return settings


def run_temperatures():
    return TemperatureReport(
        beer_temp=INVALID_TEMP,
        beer_set=temp_from_celsius(20.0),
        beer_annotation=None,
        fridge_temp=INVALID_TEMP,
        fridge_set=temp_from_celsius(10.0),
        fridge_annotation=None,
        room_temp=None,
        state=0,
    )


# -- the [run] lines, exactly ----------------------------------------------------------------


def test_avr_version_line_matches_the_run_line_with_log_version_as_a_string():
    version = VersionInfo("0.2.13", "da7e14a9", 2, False, "s", 3)
    assert encode_line(version, AVR) == RUN_N


def test_avr_temperature_line_prints_null_for_missing_sensors_and_omits_room():
    assert encode_line(run_temperatures(), AVR) == RUN_T


def test_avr_settings_line_matches_the_run_line():
    assert encode_line(SettingsReport(avr_run_settings()), AVR) == RUN_S


def test_avr_default_constants_line_matches_the_run_line():
    assert encode_line(ConstantsReport(default_constants(AVR)), AVR) == RUN_C


def test_avr_constants_after_fahrenheit_re_express_temperatures_and_differences_only():
    constants = default_constants(AVR)
    constants.temp_format = F
    line = encode_line(ConstantsReport(constants), AVR, C)  # C: follows its own format
    assert line.startswith(
        'C:{"tempFormat":"F","tempSetMin": 33.8,"tempSetMax": 86.0,"pidMax": 18.000,'
        '"Kp": 5.000,"Ki": 0.250,"Kd": 1.500,"iMaxErr": 0.900,"idleRangeH": 1.801,'
    )
    assert line.endswith(
        '"fridgeFastFilt":1,"fridgeSlowFilt":4,"fridgeSlopeFilt":3,'
        '"beerFastFilt":3,"beerSlowFilt":4,"beerSlopeFilt":4,"lah":0,"hs":0}'
    )


def test_avr_variables_before_any_peak_show_the_internal_zero_as_48_degrees():
    line = encode_line(VariablesReport(ControlVariables()), AVR)
    assert line.startswith('V:{"beerDiff": 0.000,"diffIntegral": 0.000,"beerSlope": 0.000,')
    assert '"estPeak": 48.0,"negPeakEst": 48.0,"posPeakEst": 48.0,"negPeak": 48.0' in line


@pytest.mark.parametrize("line", RUN_D_LINES)
def test_log_lines_match_the_run_lines(line):
    message = parse_line(line)
    assert isinstance(message, LogMessage)
    assert encode_line(message, AVR) == line


def test_log_message_values_keep_numbers_and_strings_apart():
    assert parse_line(RUN_D_LINES[0]) == LogMessage.info(12, "beerSet", "20.0")
    assert parse_line(RUN_D_LINES[1]) == LogMessage.warning(1, 88)


def test_avr_device_list_matches_the_run_line_and_a_blank_eeprom_gives_an_empty_list():
    cooler = DeviceDefinition(
        slot=0,
        function=DeviceFunction.CHAMBER_COOLER,
        hardware=DeviceHardware.PIN,
        pin=5,
        invert=True,
        value=False,
    )
    assert encode_line(DeviceListReport([cooler]), AVR) == RUN_D_LIST
    assert encode_line(DeviceListReport([]), AVR) == "d:[]"


def test_lcd_line_matches_the_run_line_and_the_degree_sign_is_byte_b0_on_the_wire():
    lines = ("Mode   Off          ", "Beer   --.-  --.- °C", "Fridge --.-  --.- °C",
             "Idling for     00m26")  # fmt: skip
    assert encode_line(LcdReport(lines), AVR) == RUN_L
    wire = encode_wire_text(RUN_L)
    assert wire.count(b"\xb0") == 2
    assert decode_wire_text(wire) == RUN_L


# -- ESP shapes ------------------------------------------------------------------------------


def test_esp_version_line_has_describe_number_log_version_and_revision():
    version = VersionInfo("0.2.4", "b6e45cd", 0, False, "e", 3, "v0.15", "0.15")
    assert encode_line(version, ESP) == (
        'N:{"v":"0.2.4","n":"b6e45cd","c":"v0.15","s":0,"y":0,"b":"e","l":3,"e":"0.15"}'
    )


def test_esp_temperature_line_prints_invalid_as_zero_room_as_empty_and_one_decimal():
    report = run_temperatures()
    report.beer_temp = temp_from_celsius(19.75)
    report.fridge_annotation = "Fridge door opened"
    report.time = 3600
    assert encode_line(report, ESP) == (
        'T:{"BeerTemp":19.8,"BeerSet":20,"BeerAnn":null,"FridgeTemp":0,"FridgeSet":10,'
        '"FridgeAnn":"Fridge door opened","RoomTemp":"","State":0,"Time":3600}'
    )


def test_avr_temperature_line_shows_an_installed_but_unreadable_room_sensor_as_null():
    report = run_temperatures()
    report.room_temp = INVALID_TEMP
    assert '"FridgeAnn":null,"RoomTemp":null,"State":0}' in encode_line(report, AVR)


def test_esp_settings_and_constants_print_plain_json_numbers():
    settings = avr_run_settings()
    assert encode_line(SettingsReport(settings), ESP) == (
        'S:{"mode":"b","beerSet":20,"fridgeSet":10,"heatEst":0.199,"coolEst":5}'
    )
    line = encode_line(ConstantsReport(default_constants(ESP)), ESP)
    assert line.startswith('C:{"tempFormat":"C","tempSetMin":1,"tempSetMax":30,"pidMax":10,')
    assert '"Kd":-1.5,' in line
    assert '"heatTargetH":0.299,' in line
    assert line.endswith('"lah":false,"hs":false}')


def test_esp_only_replies_have_their_prefixes():
    assert encode_line(ExtendedSettingsReport(False, True, False), ESP) == (
        'X:{"invertTFT":false,"glycol":true,"largeTFT":false}'
    )
    assert encode_line(WifiReport("brewery", -61), ESP) == (
        'W:{"ssid":"brewery","signalStrength":-61}'
    )
    readings = ProbeReadingsReport([("28FF4A3B01160397", temp_from_celsius(20.125), "Beer")])
    assert encode_line(readings, ESP) == (
        'R:[{"device":"28FF4A3B01160397","value":"20.125","name":"Beer"}]'
    )
    names = ProbeNamesReport({"28FF4A3B01160397": "Beer"})
    assert encode_line(names, ESP) == 'N:{"28FF4A3B01160397":"Beer"}'
    assert encode_line(SimulatorReport({"b": 1.5, "s": 0}), ESP) == 'Y:{"b":1.5,"s":0}'
    raw = 'Invalid command received "X" (0x58)'
    assert encode_line(RawText(raw), ESP) == raw


def test_log_message_strings_never_carry_a_closing_brace():
    line = encode_line(LogMessage.warning(2, 9, "odd}name"), AVR)
    assert line == 'D:{"logType":"W","logID":2,"V":[9,"odd)name"]}'


def test_encoding_something_that_is_no_message_is_a_protocol_error():
    with pytest.raises(ProtocolError, match="cannot encode int"):
        encode_line(5, AVR)  # type: ignore[arg-type]


# -- reading, tolerantly ---------------------------------------------------------------------


def test_run_temperature_line_reads_null_readings_as_invalid():
    assert parse_line(RUN_T + "\r\n") == run_temperatures()


def test_null_set_points_read_as_disabled():
    line = RUN_T.replace('"BeerSet": 20.00', '"BeerSet":null')
    report = parse_line(line)
    assert report.beer_set == DISABLED_TEMP
    settings = parse_line(RUN_S.replace('"beerSet": 20.00', '"beerSet":null'))
    assert settings.settings.beer_set == DISABLED_TEMP


def test_esp_temperature_line_reads_empty_room_as_no_sensor_and_numbers_without_decimals():
    line = (
        'T:{"BeerTemp":19.8,"BeerSet":20,"BeerAnn":null,"FridgeTemp":0,"FridgeSet":10,'
        '"FridgeAnn":null,"RoomTemp":"","State":1}'
    )
    report = parse_line(line, ESP)
    assert report.room_temp is None
    assert report.beer_set == temp_from_celsius(20.0)
    assert report.fridge_temp == temp_from_celsius(0.0)  # ESP's "invalid" looks like 0 °C
    assert report.state == 1


def test_fahrenheit_temperatures_are_read_in_the_given_format():
    report = parse_line(RUN_T.replace(" 20.00", " 68.00"), AVR, F)
    assert report.beer_set == temp_from_celsius(20.0)


def test_log1temp_is_read_as_the_room_temperature():
    report = parse_line(RUN_T.replace('"State"', '"Log1Temp": 15.50,"State"'))
    assert report.room_temp == temp_from_celsius(15.5)


def test_compact_simulator_lines_carry_only_changes_and_merge_onto_the_previous_report():
    previous = parse_line(RUN_T)
    compact = parse_line('T:{"bt": 19.50,"s":4,"t":120}')
    assert compact.beer_temp == temp_from_celsius(19.5)
    assert "beer_set" in compact.missing
    merged = compact.merged_onto(previous)
    assert merged.beer_set == temp_from_celsius(20.0)
    assert (merged.state, merged.time, merged.missing) == (4, 120, frozenset())


def test_constants_line_is_read_in_its_own_format_whatever_the_caller_thinks():
    constants = default_constants(AVR)
    constants.temp_format = F
    line = encode_line(ConstantsReport(constants), AVR)
    assert parse_line(line, AVR, C) == ConstantsReport(constants)
    assert parse_line(RUN_C, AVR, F) == ConstantsReport(default_constants(AVR))


def test_version_and_esp_probe_names_share_n_and_are_told_apart_by_content():
    assert parse_line(RUN_N) == VersionInfo("0.2.13", "da7e14a9", 2, False, "s", 3)
    assert parse_line('N:{"28FF4A3B01160397":"Beer"}') == ProbeNamesReport(
        {"28FF4A3B01160397": "Beer"}
    )
    assert parse_line("N:{}") == ProbeNamesReport({})


def test_very_old_firmware_version_may_be_a_bare_string():
    assert parse_line("N:0.1.0\r\n").version == "0.1.0"


def test_esp_raw_lines_come_back_as_raw_text_unless_the_dialect_is_avr():
    line = "Error deserializing JSON data InvalidInput\r\n"
    assert parse_line(line) == RawText("Error deserializing JSON data InvalidInput")
    assert parse_line(line, ESP) == RawText("Error deserializing JSON data InvalidInput")
    with pytest.raises(ProtocolError, match="expected a reply prefix"):
        parse_line(line, AVR)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("T:[1", "T: expected a JSON object after 'T:', got '[1'"),
        ("T:{", "T: expected JSON, got '{'"),
        ('T:{"Foo":1}', "T: expected keys such as BeerTemp"),
        ('T:{"BeerTemp":"warm"}', "T: beer_temp: expected a decimal number"),
        ("Q:{}", "unknown reply prefix 'Q:'"),
        ("\r\n", "empty line"),
        ('S:{"mode":"b"}', "S: ControlSettings: missing keys beerSet"),
        ('S:{"mode":"z","beerSet":1,"fridgeSet":1,"heatEst":1,"coolEst":1}', "S: mode: expected"),
        ('S:{"mode":null,"beerSet":1,"fridgeSet":1,"heatEst":1,"coolEst":1}', "S: mode: expected"),
        ('C:{"Kp":1}', "C: missing key 'tempFormat'"),
        ('L:["a","b"]', "L: expected an array of 4 strings"),
        ('D:{"logType":"X","logID":1}', "D: expected logType E, W or I"),
        ('d:[{"f":"heater"}]', "d: device key 'f': expected a whole number"),
        ('W:{"ssid":"x"}', "W: missing key 'signalStrength'"),
        ("N:hello", "N: expected a JSON object or a version"),
        ('T:{"BeerTemp":NaN}', "T: expected a JSON number, got NaN"),
    ],
)
def test_bad_lines_raise_protocol_errors_that_say_what_was_wrong(line, message):
    with pytest.raises(ProtocolError) as raised:
        parse_line(line)
    assert message in str(raised.value)


# -- log messages in the middle of other replies ---------------------------------------------


def test_log_lines_are_stripped_from_anywhere_in_the_buffer():
    buffer = (
        'd:[{"i":0,"t":3,"c":1,"b":0,"f":3,"h":1,"d":0,"p":5,"x":1},'
        'D:{"logType":"I","logID":10,"V":[1]}\r\n'
        '{"i":1,"t":3,"c":1,"b":0,"f":2,"h":1,"d":0,"p":6,"x":1}]\r\n'
        'D:{"logType":"W","logID":3,"V":[]}\n'
        "T:{"
    )
    rest, removed = strip_log_messages(buffer)
    assert removed == ['D:{"logType":"I","logID":10,"V":[1]}', 'D:{"logType":"W","logID":3,"V":[]}']
    assert rest == (
        'd:[{"i":0,"t":3,"c":1,"b":0,"f":3,"h":1,"d":0,"p":5,"x":1},'
        '{"i":1,"t":3,"c":1,"b":0,"f":2,"h":1,"d":0,"p":6,"x":1}]\r\n'
        "T:{"
    )
    devices = parse_line(rest.split("\n")[0])
    assert [device.pin for device in devices.devices] == [5, 6]


def test_an_unfinished_log_line_stays_in_the_buffer_until_its_line_end_arrives():
    rest, removed = strip_log_messages('S:{}\r\nD:{"logType":"W","logID":3')
    assert (rest, removed) == ('S:{}\r\nD:{"logType":"W","logID":3', [])
