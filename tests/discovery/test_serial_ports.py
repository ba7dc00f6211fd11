"""Listing serial ports: order, board guess, the link to store, and ports already in use."""

from __future__ import annotations

from discovery.usb_ports import CH340_BY_ID, UNO_BY_ID, brewery_ports, by_id_folder, usb_port
from fermentrack.controller.link import find_serial_by_id
from fermentrack.discovery.serial_ports import list_serial_ports


def test_usb_ports_come_first_with_their_board_and_the_others_last_as_not_usb(tmp_path):
    comports, folder = brewery_ports(tmp_path)
    ports = list_serial_ports(by_id_dir=folder, comports=comports)
    assert [port.device for port in ports] == [
        "/dev/ttyACM0",
        "/dev/ttyUSB0",
        "/dev/ttyUSB1",
        "/dev/rfcomm0",
        "/dev/ttyAMA0",
    ]
    uno, ch340, esp32, bluetooth, uart = ports
    assert (uno.usb_id, uno.board, uno.dialect) == ("2341:0043", "Arduino Uno R3", "avr")
    assert uno.description == "Arduino Uno"
    assert ch340.board.startswith("CH340") and ch340.dialect is None
    assert esp32.board.startswith("CP210x") and esp32.dialect == "esp"
    for port in (bluetooth, uart):
        assert (port.usb, port.usb_id, port.board, port.dialect) == (False, "", "not USB", None)
        assert port.description == ""


def test_a_board_with_a_usb_serial_number_is_offered_by_that_number(tmp_path):
    comports, folder = brewery_ports(tmp_path)
    uno = list_serial_ports(by_id_dir=folder, comports=comports)[0]
    assert uno.by_id == str(folder / UNO_BY_ID)
    assert uno.serial_number == "75237333536351F0B0A1"
    assert uno.link == "serial-by-id://75237333536351F0B0A1"
    # The controller finds this very port by it.
    assert find_serial_by_id("75237333536351F0B0A1", folder) == folder / UNO_BY_ID


def test_a_clone_without_a_serial_number_is_offered_by_its_stable_by_id_path(tmp_path):
    comports, folder = brewery_ports(tmp_path)
    ch340 = list_serial_ports(by_id_dir=folder, comports=comports)[1]
    assert ch340.serial_number is None
    assert ch340.link == f"serial://{folder / CH340_BY_ID}?baud=57600"


def test_a_port_without_a_by_id_name_is_offered_by_its_device_path(tmp_path):
    comports, folder = brewery_ports(tmp_path)
    uart = list_serial_ports(by_id_dir=folder, comports=comports)[-1]
    assert uart.by_id is None
    assert uart.link == "serial:///dev/ttyAMA0?baud=57600"


def test_two_boards_sharing_a_serial_number_are_offered_by_their_by_id_paths(tmp_path):
    # Some clones all carry the same serial number; the controller could not tell them apart.
    ports = [
        usb_port("/dev/ttyUSB0", 0x10C4, 0xEA60, "0001"),
        usb_port("/dev/ttyUSB1", 0x10C4, 0xEA60, "0001"),
    ]
    folder = by_id_folder(
        tmp_path / "by-id",
        {"usb-A_0001-if00-port0": "/dev/ttyUSB0", "usb-B_0001-if00-port0": "/dev/ttyUSB1"},
    )
    links = [port.link for port in list_serial_ports(by_id_dir=folder, comports=lambda: ports)]
    assert links == [
        f"serial://{folder}/usb-A_0001-if00-port0?baud=57600",
        f"serial://{folder}/usb-B_0001-if00-port0?baud=57600",
    ]


def test_a_serial_number_the_form_would_refuse_falls_back_to_a_path(tmp_path):
    ports = [usb_port("/dev/ttyACM3", 0x2341, 0x0043, "has space")]
    folder = by_id_folder(tmp_path / "by-id", {"usb-Arduino_has_space-if00": "/dev/ttyACM3"})
    [port] = list_serial_ports(by_id_dir=folder, comports=lambda: ports)
    assert port.link == f"serial://{folder}/usb-Arduino_has_space-if00?baud=57600"


def test_ports_already_used_by_a_device_are_marked_with_its_name(tmp_path):
    comports, folder = brewery_ports(tmp_path)
    used = {
        "serial-by-id://75237333536351F0B0A1": "fridge-1",
        f"serial://{folder / CH340_BY_ID}?baud=57600": "fridge-2",
        "serial:///dev/ttyAMA0": "keezer",
        "tcp://brewpi.local:23": "fridge-3",
    }
    ports = list_serial_ports(used, by_id_dir=folder, comports=comports)
    assert {port.device: port.used_by for port in ports} == {
        "/dev/ttyACM0": "fridge-1",
        "/dev/ttyUSB0": "fridge-2",
        "/dev/ttyUSB1": None,
        "/dev/rfcomm0": None,
        "/dev/ttyAMA0": "keezer",
    }


def test_a_device_stored_by_device_path_marks_the_port_found_by_id(tmp_path):
    comports, folder = brewery_ports(tmp_path)
    ports = list_serial_ports(
        {"serial:///dev/ttyACM0?baud=57600": "fridge-1"}, by_id_dir=folder, comports=comports
    )
    assert ports[0].used_by == "fridge-1"


def test_no_by_id_folder_means_device_paths(tmp_path):
    comports, _ = brewery_ports(tmp_path)
    ports = list_serial_ports(by_id_dir=tmp_path / "missing", comports=comports)
    assert ports[0].link == "serial:///dev/ttyACM0?baud=57600"
    assert all(port.by_id is None for port in ports)


def test_a_failing_port_listing_gives_an_empty_list_and_a_log_line(tmp_path, caplog):
    def broken():
        raise OSError("/sys/class/tty: permission denied")

    assert list_serial_ports(by_id_dir=tmp_path, comports=broken) == []
    assert "listing serial ports failed: /sys/class/tty: permission denied" in caplog.text


def test_this_computers_own_ports_are_listed_with_links(tmp_path):
    # Whatever this machine has (often /dev/ttyS0 only): pyserial's real listing goes through.
    for port in list_serial_ports():
        assert port.link.startswith(("serial://", "serial-by-id://"))
