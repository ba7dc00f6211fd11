"""Serial ports as pyserial lists them, built by hand (this machine has no USB device), and a
/dev/serial/by-id folder of symlinks to them."""

from __future__ import annotations

from pathlib import Path

from serial.tools.list_ports_common import ListPortInfo


def usb_port(device, vid, pid, serial_number=None, product=None, manufacturer=None):
    info = ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.serial_number = vid, pid, serial_number
    info.product, info.manufacturer = product, manufacturer
    info.apply_usb_info()
    return info


def plain_port(device):
    return ListPortInfo(device, skip_link_detection=True)


def by_id_folder(folder: Path, names: dict[str, str]) -> Path:
    """Symlinks `name -> device`, as udev makes them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, device in names.items():
        (folder / name).symlink_to(device)
    return folder


UNO_BY_ID = "usb-Arduino__www.arduino.cc__0043_75237333536351F0B0A1-if00"
CH340_BY_ID = "usb-1a86_USB2.0-Serial-if00-port0"


def brewery_ports(tmp_path: Path):
    """A genuine Uno, a clone Nano on a CH340, an ESP32 DevKit, a Bluetooth port and the Pi's
    UART: (the comports function, the by-id folder)."""
    ports = [
        plain_port("/dev/rfcomm0"),
        usb_port("/dev/ttyUSB1", 0x10C4, 0xEA60, "0001", "CP2102 USB to UART Bridge Controller"),
        usb_port("/dev/ttyACM0", 0x2341, 0x0043, "75237333536351F0B0A1", "Arduino Uno"),
        usb_port("/dev/ttyUSB0", 0x1A86, 0x7523, None, "USB2.0-Serial"),
        plain_port("/dev/ttyAMA0"),
    ]
    folder = by_id_folder(
        tmp_path / "by-id",
        {
            UNO_BY_ID: "/dev/ttyACM0",
            CH340_BY_ID: "/dev/ttyUSB0",
            "usb-Silicon_Labs_CP2102_USB_to_UART_Bridge_Controller_0001-if00-port0": (
                "/dev/ttyUSB1"
            ),
        },
    )
    return (lambda: list(ports)), folder
