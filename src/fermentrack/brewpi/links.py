"""How a device's link names the firmware's port: facts shared by the controller (which opens it)
and the web app's discovery (which offers it). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable

DEFAULT_BAUD = 57600  # every AVR build and ESP serial builds (brewpi-protocol §1)
DEFAULT_TCP_PORT = 23  # ESP WiFi builds serve the protocol on the telnet port
SERIAL_BY_ID_DIR = "/dev/serial/by-id"  # udev's stable names for USB serial ports


def by_id_names_for(usb_serial: str, names: Iterable[str]) -> list[str]:
    """The udev by-id names (such as usb-Arduino__www.arduino.cc__0043_75237333536351F0B0A1-if00)
    that carry `usb_serial`: those whose <vendor>_<product>_<serial>[-ifNN] ends in it, or else
    any that contain it. One name is a match; none or several are not."""
    names = sorted(names)
    exact = [name for name in names if name.rsplit("-if", 1)[0].endswith("_" + usb_serial)]
    return exact or [name for name in names if usb_serial in name]
