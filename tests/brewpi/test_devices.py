"""Device definitions: JSON per dialect, `U{...}` merges and their validation (§7)."""

import pytest

from fermentrack.brewpi.devices import (
    DeviceDefinition,
    DeviceFunction,
    DeviceHardware,
    DeviceType,
    device_type_for,
    encode_device,
    merge_update,
    parse_device,
    requested_slot,
    validate_definition,
)
from fermentrack.brewpi.errors import ProtocolError
from fermentrack.brewpi.log_messages import ErrorId, LogMessage
from fermentrack.brewpi.temperature import (
    INVALID_TEMP,
    Dialect,
    TempFormat,
    diff_from_celsius,
    temp_from_celsius,
)

AVR, ESP = Dialect.AVR, Dialect.ESP
C, F = TempFormat.CELSIUS, TempFormat.FAHRENHEIT
Fn, Hw = DeviceFunction, DeviceHardware
ADDRESS = "28FF4A3B01160397"

COOLER = DeviceDefinition(
    slot=0, function=Fn.CHAMBER_COOLER, hardware=Hw.PIN, pin=5, invert=True, value=False
)
BEER_SENSOR = DeviceDefinition(
    slot=2,
    beer=1,
    function=Fn.BEER_TEMP,
    hardware=Hw.ONEWIRE_TEMP,
    pin=9,
    address=ADDRESS,
    calibration=diff_from_celsius(-0.5),
    value=temp_from_celsius(20.125),
)


def test_device_type_follows_the_function():
    assert device_type_for(Fn.CHAMBER_DOOR) is DeviceType.SWITCH_SENSOR
    for function in (2, 3, 4, 7, 11, 12):
        assert device_type_for(function) is DeviceType.SWITCH_ACTUATOR
    for function in (5, 6, 9, 10):
        assert device_type_for(function) is DeviceType.TEMP_SENSOR
    for function in (0, 8, 13, 14, 15, 99):
        assert device_type_for(function) is DeviceType.NONE


def test_avr_device_matches_the_run_example_key_order():
    text = encode_device(COOLER, AVR, C, with_value=True)
    assert text == '{"i":0,"t":3,"c":1,"b":0,"f":3,"h":1,"d":0,"p":5,"v":0,"x":1}'


def test_avr_onewire_sensor_adds_address_and_calibration_and_no_invert():
    text = encode_device(BEER_SENSOR, AVR, C, with_value=True)
    assert text == (
        '{"i":2,"t":1,"c":1,"b":1,"f":9,"h":2,"d":0,"p":9,"v": 20.125,'
        f'"a":"{ADDRESS}","j":-0.500}}'
    )


def test_avr_device_without_value_leaves_out_v():
    assert '"v"' not in encode_device(COOLER, AVR, C, with_value=False)


def test_avr_unreadable_sensor_value_is_null():
    sensor = DeviceDefinition(slot=1, function=Fn.CHAMBER_TEMP, hardware=Hw.ONEWIRE_TEMP, pin=9)
    assert '"v":null' in encode_device(sensor, AVR, C, with_value=True)


def test_esp_device_order_has_booleans_and_calibration_as_a_string():
    text = encode_device(BEER_SENSOR, ESP, C, with_value=True)
    assert text == (
        f'{{"c":1,"b":1,"f":9,"h":2,"p":9,"x":false,"d":false,"a":"{ADDRESS}",'
        '"j":"-0.500","v":20.125,"i":2}'
    )
    zero = encode_device(DeviceDefinition(hardware=Hw.ONEWIRE_TEMP), ESP, C, with_value=False)
    assert '"j":" 0.000"' in zero


def test_esp_pin_device_shows_its_alias_and_tplink_its_child_id():
    heater = DeviceDefinition(
        slot=1, function=Fn.CHAMBER_HEATER, hardware=Hw.PIN, pin=12, alias="Heat"
    )
    assert encode_device(heater, ESP, C, with_value=False) == (
        '{"c":1,"b":0,"f":2,"h":1,"p":12,"x":false,"d":false,"r":"Heat","i":1}'
    )
    plug = DeviceDefinition(
        slot=3, function=Fn.CHAMBER_COOLER, hardware=Hw.TPLINK_PLUG, address="AA:BB", child_id=2
    )
    assert '"a":"AA:BB","n":2,"i":3}' in encode_device(plug, ESP, C, with_value=False)


def test_device_temperatures_follow_the_temperature_format():
    text = encode_device(BEER_SENSOR, AVR, F, with_value=True)
    assert '"v": 68.225' in text
    assert '"j":-0.900' in text


@pytest.mark.parametrize("dialect", [AVR, ESP])
@pytest.mark.parametrize("fmt", [C, F])
@pytest.mark.parametrize("device", [COOLER, BEER_SENSOR])
def test_parse_device_reads_back_what_encode_device_wrote(dialect, fmt, device):
    import json

    text = encode_device(device, dialect, fmt, with_value=True)
    assert parse_device(json.loads(text), dialect, fmt) == device


def test_parse_device_tolerates_text_values_and_the_other_dialects_shapes():
    parsed = parse_device(
        {"i": "2", "t": "1", "c": "1", "b": "1", "f": "9", "h": "2", "p": "9", "d": "0",
         "a": ADDRESS.lower(), "j": " -0.500", "v": "null"},
        ESP,
        C,
    )  # fmt: skip
    assert parsed.address == ADDRESS
    assert parsed.calibration == diff_from_celsius(-0.5)
    assert parsed.value == INVALID_TEMP
    assert parse_device({"x": True, "d": 1, "h": 1, "v": 1}, AVR, C).value is True


def test_parse_device_names_the_bad_key():
    with pytest.raises(ProtocolError, match="device key 'p': expected a whole number"):
        parse_device({"p": "nine"}, AVR, C)
    with pytest.raises(ProtocolError, match="device key 'a'"):
        parse_device({"a": "not hex!"}, AVR, C)
    with pytest.raises(ProtocolError, match="JSON object"):
        parse_device([1], AVR, C)  # type: ignore[arg-type]


def test_requested_slot_is_minus_one_without_a_usable_i():
    assert requested_slot({"i": "3"}) == 3
    assert requested_slot({"f": "3"}) == -1
    assert requested_slot({"i": "x"}) == -1
    assert requested_slot(None) == -1


def test_avr_update_merges_only_the_given_keys():
    current = DeviceDefinition(
        slot=0, function=Fn.CHAMBER_COOLER, hardware=Hw.PIN, pin=5, invert=True
    )
    merged = merge_update(current, {"i": "0", "f": "2"}, AVR, C)
    assert merged == DeviceDefinition(
        slot=0, function=Fn.CHAMBER_HEATER, hardware=Hw.PIN, pin=5, invert=True
    )


def test_avr_update_keeps_the_address_when_the_new_one_starts_with_ff():
    current = BEER_SENSOR
    assert merge_update(current, {"a": "FF00000000000000"}, AVR, C).address == ADDRESS
    assert merge_update(current, {"a": "28aa000000000001"}, AVR, C).address == "28AA000000000001"


def test_esp_update_overwrites_every_field_with_defaults():
    current = DeviceDefinition(
        slot=0, function=Fn.CHAMBER_COOLER, hardware=Hw.PIN, pin=5, invert=True
    )
    merged = merge_update(current, {"i": 0, "f": 2, "h": 1, "p": 13}, ESP, C)
    assert merged == DeviceDefinition(
        slot=0, function=Fn.CHAMBER_HEATER, hardware=Hw.PIN, pin=13, invert=False
    )


@pytest.mark.parametrize("dialect", [AVR, ESP])
def test_update_forces_chamber_one_and_beer_by_function(dialect):
    beer = merge_update(DeviceDefinition(slot=1), {"i": 1, "c": 3, "b": 0, "f": 9}, dialect, C)
    assert (beer.chamber, beer.beer) == (1, 1)
    chamber = merge_update(DeviceDefinition(slot=1), {"i": 1, "c": 0, "b": 5, "f": 5}, dialect, C)
    assert (chamber.chamber, chamber.beer) == (1, 0)


def test_update_stores_calibration_in_sixteenths_of_a_degree():
    merged = merge_update(DeviceDefinition(slot=1), {"i": "1", "j": "0.1"}, AVR, C)
    assert merged.calibration == 64  # 0.1 °C rounds to 2/16 °C
    merged = merge_update(DeviceDefinition(slot=1), {"i": "1", "j": "-20"}, AVR, C)
    assert merged.calibration == -128 * 32  # the signed byte's limit, -8 °C


def test_update_with_a_value_that_does_not_parse_raises():
    with pytest.raises(ProtocolError, match="device key 'f'"):
        merge_update(DeviceDefinition(slot=1), {"i": "1", "f": "heater"}, AVR, C)


def _errors(defn, **kwargs):
    limits = {"max_slot": 15, "onewire_pins": {9}, "actuator_pins": {2, 5, 6, 19, 4}}
    return validate_definition(defn, **(limits | kwargs))


def _invalid(*specific):
    return [LogMessage.error(ErrorId.INVALID_DEVICE_DEFINITION), *specific]


def test_valid_definitions_give_no_errors():
    assert _errors(COOLER) == []
    assert _errors(BEER_SENSOR) == []
    door = DeviceDefinition(slot=3, function=Fn.CHAMBER_DOOR, hardware=Hw.PIN, pin=4)
    assert _errors(door) == []


def test_clearing_a_slot_with_function_none_is_valid_whatever_the_hardware():
    assert _errors(DeviceDefinition(slot=4, function=Fn.NONE, hardware=Hw.PIN, pin=77)) == []


@pytest.mark.parametrize("slot", [-1, 16])
def test_slot_outside_the_slots_is_invalid(slot):
    assert (
        _errors(DeviceDefinition(slot=slot, function=Fn.CHAMBER_COOLER, hardware=Hw.PIN, pin=5))
        == _invalid()
    )


def test_chamber_above_four_is_error_4():
    defn = DeviceDefinition(slot=0, chamber=5, function=Fn.CHAMBER_COOLER, hardware=Hw.PIN, pin=5)
    assert _errors(defn) == _invalid(LogMessage.error(ErrorId.INVALID_CHAMBER, 5))


def test_beer_above_six_is_error_5():
    defn = DeviceDefinition(slot=0, beer=7, function=Fn.BEER_TEMP, hardware=Hw.ONEWIRE_TEMP, pin=9)
    assert _errors(defn) == _invalid(LogMessage.error(ErrorId.INVALID_BEER, 7))


def test_function_sixteen_or_more_is_error_6():
    defn = DeviceDefinition(slot=0, function=16, hardware=Hw.PIN, pin=5)
    assert _errors(defn) == _invalid(LogMessage.error(ErrorId.INVALID_DEVICE_FUNCTION, 16))


def test_beer_function_without_a_beer_is_error_7():
    defn = DeviceDefinition(slot=0, beer=0, function=Fn.BEER_TEMP, hardware=Hw.ONEWIRE_TEMP, pin=9)
    assert _errors(defn) == _invalid(LogMessage.error(ErrorId.INVALID_DEVICE_OWNER, 2, 0, 1))


def test_chamber_function_without_a_chamber_is_error_7():
    defn = DeviceDefinition(slot=0, chamber=0, function=Fn.CHAMBER_COOLER, hardware=Hw.PIN, pin=5)
    assert _errors(defn) == _invalid(LogMessage.error(ErrorId.INVALID_DEVICE_OWNER, 1, 0, 0))


def test_hardware_that_cannot_serve_the_function_is_error_8():
    pin_sensor = DeviceDefinition(slot=0, function=Fn.CHAMBER_TEMP, hardware=Hw.PIN, pin=5)
    assert _errors(pin_sensor) == _invalid(
        LogMessage.error(ErrorId.CANNOT_ASSIGN_TO_HARDWARE, 1, 1)
    )
    onewire_heater = DeviceDefinition(
        slot=0, function=Fn.CHAMBER_HEATER, hardware=Hw.ONEWIRE_TEMP, pin=9
    )
    assert _errors(onewire_heater) == _invalid(
        LogMessage.error(ErrorId.CANNOT_ASSIGN_TO_HARDWARE, 3, 2)
    )
    no_hardware = DeviceDefinition(slot=0, function=Fn.CHAMBER_HEATER, hardware=Hw.NONE)
    assert _errors(no_hardware)[1].log_id == ErrorId.CANNOT_ASSIGN_TO_HARDWARE


def test_onewire_device_on_a_pin_without_a_bus_is_error_9():
    defn = DeviceDefinition(slot=0, function=Fn.CHAMBER_TEMP, hardware=Hw.ONEWIRE_TEMP, pin=5)
    assert _errors(defn) == _invalid(LogMessage.error(ErrorId.NOT_A_ONEWIRE_BUS, 5))


def test_pin_device_on_an_unknown_pin_is_invalid_without_a_specific_error():
    defn = DeviceDefinition(slot=0, function=Fn.CHAMBER_HEATER, hardware=Hw.PIN, pin=40)
    assert _errors(defn) == _invalid()
