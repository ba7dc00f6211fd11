"""The board guess from USB vendor and product ids."""

from __future__ import annotations

from fermentrack.discovery.boards import ARDUINO, EITHER, ESP, KNOWN_USB_IDS, guess_board


def test_every_known_id_names_a_board_and_a_family():
    for (vid, pid), guess in KNOWN_USB_IDS.items():
        assert 0 < vid <= 0xFFFF and 0 <= pid <= 0xFFFF
        assert guess.board and guess.family in (ARDUINO, ESP, EITHER)


def test_a_genuine_arduino_uno_is_named_and_runs_the_avr_firmware():
    guess = guess_board(0x2341, 0x0043)
    assert guess.board == "Arduino Uno R3"
    assert guess.exact and guess.dialect == "avr"


def test_a_mega_and_a_leonardo_from_either_arduino_vendor_are_recognised():
    assert "Mega 2560" in guess_board(0x2341, 0x0042).board
    assert "Mega 2560" in guess_board(0x2A03, 0x0042).board
    assert guess_board(0x2341, 0x8036).board == "Arduino Leonardo"
    assert "Leonardo" in guess_board(0x2A03, 0x8036).board


def test_a_ch340_is_named_as_a_chip_with_the_boards_that_carry_it_and_no_dialect():
    guess = guess_board(0x1A86, 0x7523)
    assert guess.board.startswith("CH340")
    assert "Nano" in guess.board and "D1 mini" in guess.board
    assert not guess.exact and guess.dialect is None


def test_ftdi_chips_of_genuine_nanos_are_recognised():
    assert "Nano" in guess_board(0x0403, 0x6001).board


def test_cp210x_ch9102_and_esp32_native_usb_point_to_the_esp_firmware():
    for vid, pid in [(0x10C4, 0xEA60), (0x1A86, 0x55D4), (0x303A, 0x1001), (0x303A, 0x0002)]:
        assert guess_board(vid, pid).dialect == "esp", f"{vid:04x}:{pid:04x}"
    assert guess_board(0x303A, 0x1001).exact


def test_an_unlisted_product_of_a_board_vendor_still_names_the_vendor():
    assert guess_board(0x2341, 0x9999).board == "an Arduino board"
    assert guess_board(0x303A, 0x4001).dialect == "esp"


def test_unknown_ids_and_ports_without_usb_give_no_guess():
    assert guess_board(0x1234, 0x5678) is None
    assert guess_board(None, None) is None
