"""Which board a USB serial port probably is, from its USB vendor and product ids.

Written from the public USB id lists (the vendors' own ids as the boards and the Linux usb.ids
file show them). A USB-serial chip only tells the chip, not the board around it: the guess then
names the boards that commonly carry it.
"""

from __future__ import annotations

from dataclasses import dataclass

ARDUINO = "arduino"  # AVR boards: the BrewPi AVR firmware, "avr" dialect
ESP = "esp"  # ESP8266/ESP32 boards: the BrewPi ESP firmware, "esp" dialect
EITHER = "either"  # a USB-serial chip found on both


@dataclass(frozen=True)
class BoardGuess:
    """What a port's USB ids suggest: `board` in a brewer's words, the `family` (ARDUINO, ESP
    or EITHER), and `exact` when the ids name the board itself rather than a serial chip."""

    board: str
    family: str
    exact: bool

    @property
    def dialect(self) -> str | None:
        """The BrewPi firmware dialect this board runs, when the ids are enough to tell."""
        return {ARDUINO: "avr", ESP: "esp"}.get(self.family)


def _board(name: str, family: str) -> BoardGuess:
    return BoardGuess(name, family, exact=True)


def _chip(name: str, family: str) -> BoardGuess:
    return BoardGuess(name, family, exact=False)


# (vendor id, product id) -> guess.
KNOWN_USB_IDS: dict[tuple[int, int], BoardGuess] = {
    # Arduino LLC / Arduino SA (vendor 0x2341): the genuine boards' own USB chip (16U2/32U4).
    (0x2341, 0x0001): _board("Arduino Uno", ARDUINO),
    (0x2341, 0x0043): _board("Arduino Uno R3", ARDUINO),
    (0x2341, 0x0243): _board("Arduino Uno R3", ARDUINO),
    (0x2341, 0x0010): _board("Arduino Mega 2560", ARDUINO),
    (0x2341, 0x0042): _board("Arduino Mega 2560 R3", ARDUINO),
    (0x2341, 0x0036): _board("Arduino Leonardo (bootloader)", ARDUINO),
    (0x2341, 0x8036): _board("Arduino Leonardo", ARDUINO),
    (0x2341, 0x0037): _board("Arduino Micro (bootloader)", ARDUINO),
    (0x2341, 0x8037): _board("Arduino Micro", ARDUINO),
    (0x2341, 0x0058): _board("Arduino Nano Every", ARDUINO),
    # Arduino Srl, "arduino.org" (vendor 0x2a03): the same boards sold under the other name.
    (0x2A03, 0x0043): _board("Arduino Uno R3 (arduino.org)", ARDUINO),
    (0x2A03, 0x0010): _board("Arduino Mega 2560 (arduino.org)", ARDUINO),
    (0x2A03, 0x0042): _board("Arduino Mega 2560 R3 (arduino.org)", ARDUINO),
    (0x2A03, 0x0036): _board("Arduino Leonardo (arduino.org, bootloader)", ARDUINO),
    (0x2A03, 0x8036): _board("Arduino Leonardo (arduino.org)", ARDUINO),
    # FTDI (vendor 0x0403): FT232R on the genuine Nano v3, Duemilanove and older Megas; the
    # FT231X (FT-X series) on some later boards; FT2232 on ESP32 programming boards.
    (0x0403, 0x6001): _chip("FTDI FT232R: Arduino Nano, Duemilanove or an FTDI adapter", EITHER),
    (0x0403, 0x6015): _chip("FTDI FT231X: a board or adapter with an FT-X chip", EITHER),
    (0x0403, 0x6010): _chip("FTDI FT2232: an ESP32 development kit or programmer", ESP),
    # WCH / QinHeng (vendor 0x1a86): the CH340 on clone Unos, Nanos and Megas, and on the
    # Wemos D1 mini and NodeMCU v3 (ESP8266); the CH9102 and CH343 on newer ESP32 DevKits and
    # the D1 mini v4.
    (0x1A86, 0x7523): _chip("CH340: a clone Arduino Uno/Nano/Mega, or a Wemos D1 mini", EITHER),
    (0x1A86, 0x7522): _chip("CH340K: a clone Arduino, or an ESP8266 board", EITHER),
    (0x1A86, 0x5523): _chip("CH341: a USB-serial adapter or clone Arduino", EITHER),
    (0x1A86, 0x55D4): _chip("CH9102: an ESP32 DevKit or Wemos D1 mini v4", ESP),
    (0x1A86, 0x55D3): _chip("CH343: an ESP32 development board", ESP),
    # Silicon Labs (vendor 0x10c4): the CP2102/CP2104 on NodeMCU v1 (ESP8266), ESP32 DevKitC,
    # Adafruit Huzzah32 and most ESP boards; CP2105/CP2108 are multi-port bridges.
    (0x10C4, 0xEA60): _chip("CP210x: an ESP8266 NodeMCU or ESP32 DevKit", ESP),
    (0x10C4, 0xEA70): _chip("CP2105: a dual USB-serial bridge (ESP boards, adapters)", EITHER),
    (0x10C4, 0xEA71): _chip("CP2108: a quad USB-serial bridge", EITHER),
    # Prolific (vendor 0x067b): PL2303 USB-serial cables.
    (0x067B, 0x2303): _chip("PL2303: a USB-serial cable", EITHER),
    # Espressif (vendor 0x303a): the chip's own USB. 0x1001 is the USB-Serial/JTAG unit of the
    # ESP32-C3, -S3, -C6 and -H2; 0x0002 the ESP32-S2 in its ROM download mode.
    (0x303A, 0x1001): _board("ESP32-C3/S3 (native USB)", ESP),
    (0x303A, 0x0002): _board("ESP32-S2 (native USB)", ESP),
    # Particle (vendor 0x2b04) Photon, and the Spark Core (OpenMoko's vendor 0x1d50): the
    # BrewPi Spark's controllers.
    (0x2B04, 0xC006): _board("Particle Photon (BrewPi Spark)", EITHER),
    (0x1D50, 0x607D): _board("Spark Core (BrewPi Spark)", EITHER),
}

# A vendor whose products are all boards of one family, for product ids not listed above.
KNOWN_USB_VENDORS: dict[int, BoardGuess] = {
    0x2341: _board("an Arduino board", ARDUINO),
    0x2A03: _board("an Arduino board (arduino.org)", ARDUINO),
    0x303A: _board("an ESP32 board (native USB)", ESP),
}


def guess_board(vid: int | None, pid: int | None) -> BoardGuess | None:
    """The board the USB ids suggest, or None for ids we do not know (or no USB at all)."""
    if vid is None:
        return None
    if pid is not None and (vid, pid) in KNOWN_USB_IDS:
        return KNOWN_USB_IDS[(vid, pid)]
    return KNOWN_USB_VENDORS.get(vid)
