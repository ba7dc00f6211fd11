"""Controller -> firmware commands: what our controller writes, how each firmware reads bytes."""

import pytest

from fermentrack.brewpi.commands import (
    JSON_COMMANDS,
    Command,
    CommandReader,
    MalformedJson,
    UnknownCommand,
    encode_command,
)
from fermentrack.brewpi.errors import ProtocolError
from fermentrack.brewpi.temperature import Dialect

AVR, ESP = Dialect.AVR, Dialect.ESP


def read(dialect: Dialect, *chunks: bytes, timeout: bool = False) -> list:
    reader = CommandReader(dialect)
    events = [event for chunk in chunks for event in reader.feed(chunk)]
    return events + (reader.timeout() if timeout else [])


# -- encoding --------------------------------------------------------------------------------


def test_setter_command_quotes_keys_and_string_values_so_both_dialects_accept_it():
    assert encode_command("j", {"mode": "b", "beerSet": 20.0}) == 'j{"mode":"b","beerSet":20.0}'


def test_command_values_print_as_json():
    assert encode_command("d", {"i": -2, "w": 1}) == 'd{"i":-2,"w":1}'
    assert encode_command("E", {"confirmReset": True}) == 'E{"confirmReset":true}'
    assert encode_command("j", {"beerSet": None}) == 'j{"beerSet":null}'
    assert encode_command("d", {}) == "d{}"


def test_command_without_arguments_is_the_bare_letter():
    assert encode_command("t") == "t"


@pytest.mark.parametrize(
    ("letter", "args", "message"),
    [
        ("jj", None, "one ASCII letter"),
        ("1", None, "one ASCII letter"),
        ("j", {"a": {"b": 1}}, "a: expected a string, number, bool or None"),
        ("j", {"a": float("nan")}, "a: expected a finite number"),
        ("j", {1: 2}, "argument names must be strings"),
    ],
)
def test_commands_that_cannot_be_sent_raise_protocol_errors(letter, args, message):
    with pytest.raises(ProtocolError, match=message):
        encode_command(letter, args)


@pytest.mark.parametrize("dialect", [AVR, ESP])
def test_encoded_setter_reads_back_on_both_dialects(dialect):
    line = encode_command("j", {"mode": "f", "fridgeSet": 4.5, "lah": False}) + "\n"
    (command,) = read(dialect, line.encode())
    expected = {"mode": "f", "fridgeSet": 4.5, "lah": False}
    if dialect is AVR:
        expected = {"mode": "f", "fridgeSet": "4.5", "lah": "false"}  # AVR reads only text
    assert command == Command("j", expected)


# -- AVR reading -----------------------------------------------------------------------------


def test_avr_json_commands_are_j_d_h_u_and_y():
    assert JSON_COMMANDS[AVR] == frozenset("jdhUy")
    assert JSON_COMMANDS[ESP] == frozenset("jdhUEXoy")


def test_avr_unquoted_and_quoted_keys_and_values_read_the_same():
    assert read(AVR, b"j{mode:b}") == read(AVR, b'j{"mode":"b"}') == [Command("j", {"mode": "b"})]


def test_avr_reads_the_startup_burst_with_a_warning_for_x():
    events = read(AVR, b"s c v x d{r:1} h{u:-1,v:1}\n")
    assert events == [
        Command("s"),
        Command("c"),
        Command("v"),
        UnknownCommand(ord("x")),
        Command("d", {"r": "1"}),
        Command("h", {"u": "-1", "v": "1"}),
    ]


def test_avr_reports_every_unknown_byte_but_ignores_space_cr_and_lf():
    assert read(AVR, b" \r\nX\t\xff") == [
        UnknownCommand(88),
        UnknownCommand(9),
        UnknownCommand(255),
    ]


def test_avr_stray_quotes_around_a_command_are_unknown_bytes():
    events = read(AVR, b'"j{mode:"f", fridgeSet:4.0}"\n')
    assert events == [
        UnknownCommand(34),
        Command("j", {"mode": "f", "fridgeSet": "4.0"}),
        UnknownCommand(34),
    ]


def test_avr_json_command_without_a_brace_is_error_10_with_the_byte_and_still_runs():
    assert read(AVR, b"d\nt") == [
        MalformedJson("d", "expected {", 10),
        Command("d", {}),
        Command("t"),
    ]


def test_avr_json_command_at_the_end_of_input_times_out_as_minus_one():
    assert read(AVR, b"h", timeout=True) == [MalformedJson("h", "expected {", -1), Command("h", {})]


def test_avr_object_without_a_closing_brace_ends_after_a_second():
    reader = CommandReader(AVR)
    assert reader.feed(b"j{beerSet:20.5") == []
    assert reader.awaiting_json
    assert reader.timeout() == [Command("j", {"beerSet": "20.5"})]
    assert not reader.awaiting_json
    assert reader.timeout() == []


def test_avr_object_may_arrive_in_pieces():
    chunks = [b"j", b"{mo", b"de", b":", b'"b"', b",bee", b"rSet:2", b"0.0}t"]
    assert read(AVR, *chunks) == [Command("j", {"mode": "b", "beerSet": "20.0"}), Command("t")]


def test_avr_tokens_are_cut_at_29_characters():
    (command,) = read(AVR, b"j{" + b"k" * 40 + b":" + b"v" * 40 + b"}")
    assert command == Command("j", {"k" * 29: "v" * 29})


def test_avr_reads_nested_json_as_flat_text_tokens():
    (command, stray) = read(AVR, b'y{"a":{"b":1}}')
    assert command == Command("y", {"a": "{b"})
    assert stray == UnknownCommand(ord("}"))


def test_avr_runs_the_letters_of_esp_reset_json_as_commands():
    letters = [e.letter for e in read(AVR, b'E{"confirmReset":true}') if isinstance(e, Command)]
    assert letters == ["E", "c", "n", "R", "e", "s", "e", "t", "t", "e"]


def test_avr_endless_object_holds_a_bounded_number_of_arguments():
    reader = CommandReader(AVR)
    reader.feed(b"j{")
    for n in range(1000):
        assert reader.feed(b"key%d:1," % n) == []
    (command,) = reader.feed(b"}")
    assert len(command.args) == 64


# -- ESP reading -----------------------------------------------------------------------------


def test_esp_reads_the_startup_burst_ignoring_bytes_outside_a_to_z():
    events = read(ESP, b"s c v x d{r:1} h{u:-1,v:1}\n")
    assert events == [
        Command("s"),
        Command("c"),
        Command("v"),
        Command("x"),
        Command("d", {"r": 1}),
        Command("h", {"u": -1, "v": 1}),
    ]


def test_esp_accepts_unquoted_keys_but_rejects_unquoted_string_values():
    assert read(ESP, b'j{mode:"b"}') == [Command("j", {"mode": "b"})]
    assert read(ESP, b"j{mode:b}") == [MalformedJson("j", "InvalidInput", ord("b"))]


def test_esp_ignores_stray_quotes_around_a_command():
    events = read(ESP, b'"j{mode:"f", fridgeSet:4.0}"\n')
    assert events == [Command("j", {"mode": "f", "fridgeSet": 4.0})]


def test_esp_reports_unknown_letters_in_range_only():
    assert read(ESP, b"K012{}~\xff[") == [UnknownCommand(ord("K")), UnknownCommand(ord("["))]


def test_esp_reads_json_values_with_types():
    (command,) = read(
        ESP, b'X{"invertTFT":true,glycol:false,"n":null,"f":-1.5e1,"s":"a\\"b\\u00b0"}'
    )
    assert command == Command(
        "X", {"invertTFT": True, "glycol": False, "n": None, "f": -15.0, "s": 'a"b°'}
    )


def test_esp_reads_the_confirmed_reset_and_single_quoted_strings():
    assert read(ESP, b'E{"confirmReset": true}\n') == [Command("E", {"confirmReset": True})]
    assert read(ESP, b"o{'28FF':'Beer'}") == [Command("o", {"28FF": "Beer"})]


def test_esp_object_may_arrive_in_pieces():
    chunks = [b"j", b" ", b"{mo", b"de", b':"', b'b"', b", beer", b"Set:2", b"0.0", b"}t"]
    assert read(ESP, *chunks) == [Command("j", {"mode": "b", "beerSet": 20.0}), Command("t")]


def test_esp_failed_object_does_not_run_and_what_follows_is_read_as_commands():
    events = read(ESP, b"j{mode:b, beerSet:20}")
    assert events[0] == MalformedJson("j", "InvalidInput", ord("b"))
    assert Command("S") in events  # the S of beerSet loads default settings, as on ESP


def test_esp_timeout_gives_incomplete_input_or_empty_input():
    assert read(ESP, b'j{"mode":', timeout=True) == [MalformedJson("j", "IncompleteInput", -1)]
    assert read(ESP, b"d\n", timeout=True) == [MalformedJson("d", "EmptyInput", -1)]


def test_esp_rejects_deep_nesting_and_overlong_objects():
    events = read(ESP, b"y" + b'{"a":' * 11)
    assert events[0] == MalformedJson("y", "TooDeep", ord("{"))
    assert events[1:] == [Command("a")]  # the rest is read as commands again: a = alarm off
    events = read(ESP, b'j{"a":"' + b"1" * 5000)
    assert events == [MalformedJson("j", "NoMemory", ord("1"))]


@pytest.mark.parametrize(
    "text",
    [b"j[1]", b"j{,}", b'j{"a" 1}', b'j{"a":1,}', b'j{"a":tru}', b'j{"a":01}', b'j{"a":"\\uZZZZ"}'],
)
def test_esp_malformed_json_is_reported_not_raised(text):
    events = read(ESP, text)
    assert isinstance(events[0], MalformedJson)
    assert events[0].reason == "InvalidInput"
