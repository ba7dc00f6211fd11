"""The serial ports on this computer, as a brewer choosing one for a device needs to see them.

Every port pyserial lists, with its stable /dev/serial/by-id name when udev made one, the USB
ids, serial number and description, a board guess, the link to store for it, and which device
already uses it. Ports without USB ids (Bluetooth, the Pi's own UART, virtual ports) come last.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from fermentrack.brewpi.links import DEFAULT_BAUD, by_id_names_for
from fermentrack.brewpi.links import SERIAL_BY_ID_DIR as SERIAL_BY_ID
from fermentrack.discovery.boards import BoardGuess, guess_board

log = logging.getLogger(__name__)

# The characters the add-device form takes in a USB serial number and in a device path (which
# it also wants under /dev/, as udev's names are); a link outside these falls back to the next,
# less stable kind.
_USB_SERIAL = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_DEVICE_PATH = re.compile(r"^/[A-Za-z0-9._/:-]+$")


@dataclass
class SerialPort:
    """One serial port as found now."""

    device: str  # /dev/ttyUSB0: may change when boards are plugged in another order
    by_id: str | None  # /dev/serial/by-id/usb-...: the same board always gets the same name
    vid: int | None
    pid: int | None
    serial_number: str | None
    description: str
    guess: BoardGuess | None
    link: str  # the link to store for this port: serial-by-id:// when possible
    used_by: str | None = None  # the device that already uses this port

    @property
    def usb(self) -> bool:
        return self.vid is not None

    @property
    def usb_id(self) -> str:
        """VID:PID as lsusb prints it, e.g. 1a86:7523; '' for a port without USB ids."""
        if self.vid is None:
            return ""
        return f"{self.vid:04x}:{self.pid or 0:04x}"

    @property
    def board(self) -> str:
        """The board guess in words, for the list."""
        if self.guess is not None:
            return self.guess.board
        return "unknown USB device" if self.usb else "not USB"

    @property
    def dialect(self) -> str | None:
        return self.guess.dialect if self.guess is not None else None


SERIAL_BY_ID_DIR = Path(SERIAL_BY_ID)


def _comports():
    from serial.tools import list_ports

    return list_ports.comports()


def by_id_names(folder: Path = SERIAL_BY_ID_DIR) -> dict[str, str]:
    """Real device path -> its /dev/serial/by-id path (the first, when udev made several)."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return {}  # no USB serial device plugged in, or not Linux
    names: dict[str, str] = {}
    for entry in entries:
        names.setdefault(os.path.realpath(entry), str(entry))
    return names


def suggested_link(
    device: str, by_id: str | None, serial_number: str | None, by_id_dir: Path = SERIAL_BY_ID_DIR
) -> str:
    """The link to store for a port, most stable first: serial-by-id://<serial number> when the
    controller's rule (brewpi.links) finds exactly this port by it; else the by-id path; else the
    device path."""
    if by_id and serial_number and _USB_SERIAL.match(serial_number):
        try:
            names = [entry.name for entry in by_id_dir.iterdir()]
        except OSError:
            names = []
        found = by_id_names_for(serial_number, names)
        if len(found) == 1 and os.path.realpath(by_id_dir / found[0]) == os.path.realpath(device):
            return f"serial-by-id://{serial_number}"
    for path in (by_id, device):
        if path and _DEVICE_PATH.match(path):
            return f"serial://{path}?baud={DEFAULT_BAUD}"
    return f"serial://{device}?baud={DEFAULT_BAUD}"


def _user_of(port: SerialPort, used_links: Mapping[str, str]) -> str | None:
    real = os.path.realpath(port.device)
    for link, device_name in used_links.items():
        scheme, _, rest = link.partition("://")
        target = rest.partition("?")[0]
        if not target:
            continue
        if scheme == "serial-by-id" and target == port.serial_number:
            return device_name
        if scheme == "serial" and (
            target in (port.device, port.by_id) or os.path.realpath(target) == real
        ):
            return device_name
    return None


def list_serial_ports(
    used_links: Mapping[str, str] | None = None,
    *,
    by_id_dir: Path = SERIAL_BY_ID_DIR,
    comports: Callable[[], Iterable] = _comports,
) -> list[SerialPort]:
    """Every serial port pyserial lists: USB ports first (by device path), then the others.

    `used_links` maps stored links to the devices that use them, so a port in use is marked.
    A listing that fails (no /sys, a driver error) is logged and gives an empty list.
    """
    try:
        listed = list(comports())
    except Exception as error:
        log.warning("listing serial ports failed: %s", error)
        return []
    by_id = by_id_names(by_id_dir)
    ports = []
    for info in listed:
        device = info.device
        stable = by_id.get(os.path.realpath(device))
        serial_number = (info.serial_number or "").strip() or None
        description = info.description if info.description not in (None, "n/a") else ""
        port = SerialPort(
            device=device,
            by_id=stable,
            vid=info.vid,
            pid=info.pid,
            serial_number=serial_number,
            description=description or "",
            guess=guess_board(info.vid, info.pid),
            link=suggested_link(device, stable, serial_number, by_id_dir),
        )
        port.used_by = _user_of(port, used_links or {})
        ports.append(port)
    ports.sort(key=lambda port: (not port.usb, port.device))
    return ports
