"""The D: log-message tables and their English text (brewpi-protocol §4.7)."""

from fermentrack.brewpi.log_messages import (
    LOG_MESSAGES_VERSION,
    ErrorId,
    InfoId,
    LogMessage,
    WarningId,
    expand_log_message,
)


def test_tables_are_version_3_with_ids_in_spec_order():
    assert LOG_MESSAGES_VERSION == 3
    assert [e.value for e in ErrorId] == list(range(14))
    assert [w.value for w in WarningId] == list(range(6))
    assert [i.value for i in InfoId] == list(range(24))
    assert InfoId.RECEIVED_SETTING == 12
    assert InfoId.POSITIVE_PEAK == 17
    assert WarningId.INVALID_COMMAND == 1
    assert WarningId.SAFE_MODE == 3
    assert ErrorId.EXPECTED_BRACE == 10


def test_constructors_set_the_log_type():
    assert LogMessage.error(ErrorId.EXPECTED_BRACE, 10) == LogMessage("E", 10, [10])
    assert LogMessage.warning(WarningId.SAFE_MODE) == LogMessage("W", 3, [])
    assert LogMessage.info(12, "beerSet", "20.0") == LogMessage("I", 12, ["beerSet", "20.0"])


def test_received_setting_shows_key_and_value():
    text = expand_log_message(LogMessage.info(InfoId.RECEIVED_SETTING, "beerSet", "20.0"))
    assert text == "Received new setting: beerSet = 20.0"


def test_invalid_command_shows_the_character():
    assert expand_log_message(LogMessage.warning(1, 88)) == "Invalid command received: 'X'"


def test_expected_brace_shows_newline_as_a_character_and_minus_one_as_end_of_input():
    assert expand_log_message(LogMessage.error(10, 10)) == "Expected { but got '\\n'"
    assert expand_log_message(LogMessage.error(10, -1)) == "Expected { but got END OF INPUT"


def test_device_function_values_show_as_function_names():
    text = expand_log_message(LogMessage.info(InfoId.INSTALL_ACTUATOR, 2))
    assert text == "Installing actuator with function chamber heater"
    assert "function 42" in expand_log_message(LogMessage.error(2, 42))


def test_peak_messages_carry_four_values():
    text = expand_log_message(
        LogMessage.info(InfoId.POSITIVE_PEAK, "20.5", "20.3", "0.200", "0.250")
    )
    assert text.startswith("Positive peak detected at 20.5, 20.3 was estimated")
    assert text.endswith("from 0.200 to 0.250")


def test_safe_mode_warning_reads_as_english():
    assert "safe mode" in expand_log_message(LogMessage.warning(WarningId.SAFE_MODE))


def test_esp_unconfirmed_eeprom_reset_sent_as_error_23_expands_as_the_info_text():
    text = expand_log_message(LogMessage("E", 23, []))
    assert text == expand_log_message(LogMessage.info(InfoId.UNCONFIRMED_EEPROM_RESET))
    assert "confirmReset" in text


def test_unknown_ids_and_types_give_readable_text_instead_of_raising():
    assert expand_log_message(LogMessage.info(99, 1, "x")) == "unknown info message 99 [1, 'x']"
    assert expand_log_message(LogMessage.warning(-4)) == "unknown warning message -4 []"
    assert "unknown type 'Q' message 1" in expand_log_message(LogMessage("Q", 1, []))


def test_wrong_number_of_values_still_expands_with_the_raw_values():
    text = expand_log_message(LogMessage.info(InfoId.RECEIVED_SETTING, "beerSet"))
    assert text == "Received new setting: ? = ? (values: ['beerSet'])"
