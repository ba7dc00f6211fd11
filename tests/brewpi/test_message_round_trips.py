"""Every firmware message reads back as it was written, in both dialects and in °C and °F."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fermentrack.brewpi.devices import DeviceDefinition, DeviceFunction, DeviceHardware
from fermentrack.brewpi.log_messages import LogMessage
from fermentrack.brewpi.messages import (
    ConstantsReport,
    DeviceListReport,
    DeviceUpdateReport,
    ExtendedSettingsReport,
    HardwareReport,
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
    encode_line,
    parse_line,
)
from fermentrack.brewpi.settings import (
    ControlConstants,
    ControlSettings,
    ControlVariables,
    Mode,
    default_constants,
)
from fermentrack.brewpi.temperature import (
    DISABLED_TEMP,
    INVALID_TEMP,
    Dialect,
    TempFormat,
    diff_from_celsius,
    temp_from_celsius,
)

AVR, ESP = Dialect.AVR, Dialect.ESP
DIALECTS = [AVR, ESP]
FORMATS = [TempFormat.CELSIUS, TempFormat.FAHRENHEIT]
Fn, Hw = DeviceFunction, DeviceHardware


def t(celsius: float) -> int:
    return temp_from_celsius(celsius)


COOLER = DeviceDefinition(slot=0, function=Fn.CHAMBER_COOLER, hardware=Hw.PIN, pin=5, invert=True)
BEER_SENSOR = DeviceDefinition(
    slot=1,
    beer=1,
    function=Fn.BEER_TEMP,
    hardware=Hw.ONEWIRE_TEMP,
    pin=9,
    address="28FF4A3B01160397",
    calibration=diff_from_celsius(0.25),
)
LOOSE_SENSOR = DeviceDefinition(hardware=Hw.ONEWIRE_TEMP, pin=9, address="28AA000000000001")


def constants_in(fmt: TempFormat, dialect: Dialect) -> ControlConstants:
    constants = default_constants(dialect)
    constants.temp_format = fmt
    return constants


def sample_messages(dialect: Dialect, fmt: TempFormat) -> list:
    """One of each message, with values that survive the printed decimals exactly."""
    return [
        VersionInfo("0.2.4", "b6e45cd", 0, True, "e", 3, "v0.15-2-gb6e45cd", "0.15"),
        VersionInfo("0.2.13", "da7e14a9", 2, False, "s", 3),
        TemperatureReport(
            t(19.5),
            t(20.0),
            "Beer temp set to 20.0 in web interface",
            t(4.5),
            t(4.0),
            None,
            t(15.5),
            3,
            time=None,
        ),
        TemperatureReport(
            t(-5.5), t(30.0), None, t(40.0), t(1.0), "Fridge door opened", None, 4, time=86400
        ),
        SettingsReport(ControlSettings(Mode.BEER_PROFILE, t(18.5), t(6.0), 102, 2560)),
        SettingsReport(ControlSettings(Mode.FRIDGE_CONSTANT, t(18.5), t(6.0), 25, 1)),
        ConstantsReport(constants_in(fmt, dialect)),
        VariablesReport(
            ControlVariables(256, -100, 37, 1234, -5, 0, t(4.5), t(3.5), t(6.0), t(3.0), t(6.5))
        ),
        LcdReport(
            (
                "Mode   Beer Const.  ",
                "Beer   19.5  20.0 °C",
                "Fridge  4.5   4.0 °C",
                "Cooling for   01m02",
            )
        ),
        LogMessage.info(12, "beerSet", "20.0"),
        LogMessage.warning(1, 88),
        LogMessage.error(10, -1),
        LogMessage.info(17, "20.5", "20.3", "0.200", "0.250"),
        DeviceListReport([]),
        DeviceListReport([COOLER, BEER_SENSOR]),
        DeviceListReport([_with_value(COOLER, True), _with_value(BEER_SENSOR, t(20.125))]),
        HardwareReport(
            [_with_value(LOOSE_SENSOR, t(21.0)), _with_value(LOOSE_SENSOR, INVALID_TEMP)]
        ),
        DeviceUpdateReport(BEER_SENSOR),
        ExtendedSettingsReport(True, False, True),
        WifiReport("the brewery", -67),
        ProbeReadingsReport([("28FF4A3B01160397", t(20.125), "Beer"), ("28AA", INVALID_TEMP, "")]),
        ProbeNamesReport({"28FF4A3B01160397": "Beer", "AA:BB:CC:DD:EE:FF": "Tilt"}),
        SimulatorReport({"b": 1.5, "s": 0, "r": True, "n": "noise"}),
    ]


def _with_value(defn: DeviceDefinition, value) -> DeviceDefinition:
    return DeviceDefinition(**{**defn.__dict__, "value": value})


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_message_reads_back_as_written(dialect, fmt):
    for message in sample_messages(dialect, fmt):
        line = encode_line(message, dialect, fmt)
        assert parse_line(line + "\r\n", dialect, fmt) == message, line


@pytest.mark.parametrize("fmt", FORMATS)
def test_avr_missing_readings_and_disabled_set_points_read_back_exactly(fmt):
    report = TemperatureReport(
        INVALID_TEMP, DISABLED_TEMP, None, INVALID_TEMP, DISABLED_TEMP, None, INVALID_TEMP, 0
    )
    assert parse_line(encode_line(report, AVR, fmt), AVR, fmt) == report
    settings_ = SettingsReport(ControlSettings(Mode.OFF, DISABLED_TEMP, DISABLED_TEMP, 102, 2560))
    assert parse_line(encode_line(settings_, AVR, fmt), AVR, fmt) == settings_


def test_esp_device_extras_read_back():
    plug = DeviceDefinition(
        slot=4,
        function=Fn.CHAMBER_HEATER,
        hardware=Hw.TPLINK_PLUG,
        address="AA:BB:CC:DD:EE:FF",
        child_id=2,
        alias="Heat plug",
    )
    tilt = DeviceDefinition(
        slot=5,
        beer=1,
        function=Fn.BEER_TEMP,
        hardware=Hw.TILT_BT,
        alias="Red",
        calibration=-64,
        value=t(18.0),
    )
    report = DeviceListReport([plug, tilt])
    assert parse_line(encode_line(report, ESP), ESP) == report


def test_esp_raw_text_reads_back():
    raw = RawText("Failed to open file: /controlSettings.json")
    assert parse_line(encode_line(raw, ESP) + "\r\n", ESP) == raw


# -- random values: the printed line is a fixed point of read-then-write ---------------------

temperatures = st.one_of(
    st.integers(-32766, 32767), st.sampled_from([INVALID_TEMP, DISABLED_TEMP, t(0.0)])
)
int16 = st.integers(-32768, 32767)
texts = st.text(max_size=30)
dialects = st.sampled_from(DIALECTS)
formats = st.sampled_from(FORMATS)

temperature_reports = st.builds(
    TemperatureReport,
    temperatures,
    temperatures,
    st.none() | texts,
    temperatures,
    temperatures,
    st.none() | texts,
    st.none() | temperatures,
    st.integers(0, 9),
    st.none() | st.integers(0, 2**31),
)
settings_reports = st.builds(
    SettingsReport,
    st.builds(ControlSettings, st.sampled_from(Mode), temperatures, temperatures, int16, int16),
)
constants_reports = st.builds(
    ConstantsReport,
    st.builds(
        ControlConstants,
        st.sampled_from(TempFormat),
        *[temperatures] * 2,
        *[int16] * 11,
        *[st.integers(0, 65535)] * 2,
        *[st.integers(0, 6)] * 6,
        st.booleans(),
        st.booleans(),
    ),
)
variables_reports = st.builds(
    VariablesReport, st.builds(ControlVariables, *[int16] * 6, *[temperatures] * 5)
)
devices = st.builds(
    DeviceDefinition,
    slot=st.integers(-1, 19),
    chamber=st.integers(0, 4),
    beer=st.integers(0, 6),
    function=st.integers(0, 15),
    hardware=st.integers(0, 7),
    pin=st.integers(0, 40),
    invert=st.booleans(),
    deactivated=st.booleans(),
    address=st.sampled_from(["", "28FF4A3B01160397", "AA:BB:CC:DD:EE:FF"]),
    calibration=int16,
    value=st.none() | st.booleans() | temperatures,
    alias=st.sampled_from(["", "Cool", "Heat"]),
    child_id=st.integers(0, 3),
)
log_messages = st.builds(
    LogMessage,
    st.sampled_from("EWI"),
    st.integers(0, 30),
    st.lists(st.integers(-(2**31), 2**31) | texts, max_size=4),
)
other_messages = st.one_of(
    st.builds(LcdReport, st.tuples(texts, texts, texts, texts)),
    st.builds(DeviceListReport, st.lists(devices, max_size=3)),
    st.builds(HardwareReport, st.lists(devices, max_size=3)),
    st.builds(DeviceUpdateReport, devices),
    st.builds(ExtendedSettingsReport, st.booleans(), st.booleans(), st.booleans()),
    st.builds(WifiReport, texts, st.integers(-120, 0)),
    st.builds(ProbeReadingsReport, st.lists(st.tuples(texts, temperatures, texts), max_size=3)),
    st.builds(
        SimulatorReport,
        st.dictionaries(
            texts,
            st.integers(-(10**9), 10**9)
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.booleans()
            | texts,
            max_size=4,
        ),
    ),
)
messages = st.one_of(
    temperature_reports,
    settings_reports,
    constants_reports,
    variables_reports,
    log_messages,
    other_messages,
)


@settings(max_examples=300, deadline=None)
@given(message=messages, dialect=dialects, fmt=formats)
def test_any_message_line_survives_reading_and_writing_again(message, dialect, fmt):
    line = encode_line(message, dialect, fmt)
    if dialect is ESP and fmt is TempFormat.FAHRENHEIT:
        # ESP prints a missing reading as 0, and 0 °F is below the firmware's range: it reads
        # back clamped. From there on the line is stable.
        line = encode_line(parse_line(line, dialect, fmt), dialect, fmt)
    assert encode_line(parse_line(line, dialect, fmt), dialect, fmt) == line
