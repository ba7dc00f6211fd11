"""What our firmware announces, and that it serves on when announcing cannot be done."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import subprocess
import sys

import pytest

from fermentrack.brewpi.temperature import Dialect
from fermentrack.cli import build_parser
from fermentrack.firmware.advertise import (
    Advertiser,
    Announcement,
    firmware_txt,
    where_to_announce,
)
from fermentrack.firmware.main import firmware_advertiser


def test_our_firmware_announces_its_hardware_branch_protocol_version_and_dialect():
    assert firmware_txt(Dialect.ESP, "sim") == {
        "board": "Fermentrack-sim",
        "branch": "legacy",
        "version": "0.2.4",
        "revision": "0.15",
        "dialect": "esp",
    }
    avr = firmware_txt(Dialect.AVR, "pi")
    assert (avr["board"], avr["version"], avr["revision"], avr["dialect"]) == (
        "Fermentrack-pi",
        "0.2.13",
        "",
        "avr",
    )


def test_a_firmware_on_loopback_is_announced_on_loopback_only():
    assert where_to_announce("127.0.0.1") == (["127.0.0.1"], ["127.0.0.1"])
    assert where_to_announce("192.168.1.5") == (["192.168.1.5"], ["192.168.1.5"])


def test_a_firmware_on_every_interface_is_announced_on_all_with_this_hosts_addresses():
    interfaces, addresses = where_to_announce("0.0.0.0")
    assert interfaces is None and addresses
    assert all(socket.inet_aton(address) for address in addresses)


def test_an_ipv6_only_firmware_is_not_announced():
    assert where_to_announce("::1") is None


def parse(*options: str):
    return build_parser().parse_args(["firmware", "--eeprom", "/brewery/fw/fridge-1", *options])


def test_the_mdns_name_defaults_to_the_eeprom_folders_letters_and_digits():
    advertiser = firmware_advertiser(parse("--tcp", "0.0.0.0:2323"))
    assert advertiser.announcement.name == "fridge1"
    named = firmware_advertiser(parse("--tcp", "127.0.0.1:2323", "--mdns-name", "Cellar2"))
    assert named.announcement.name == "Cellar2"


def test_a_firmware_only_this_computer_reaches_is_announced_only_when_named():
    assert firmware_advertiser(parse("--tcp", "127.0.0.1:2323")) is None
    assert firmware_advertiser(parse("--tcp", "localhost:2323")) is None
    named = firmware_advertiser(parse("--tcp", "127.0.0.1:2323", "--mdns-name", "Cellar2"))
    assert named.announcement.name == "Cellar2"


def test_no_mdns_and_a_pseudo_terminal_announce_nothing():
    assert firmware_advertiser(parse("--tcp", "127.0.0.1:2323", "--no-mdns")) is None
    assert firmware_advertiser(parse("--pty", "/tmp/tty-fridge")) is None


def test_a_bad_mdns_name_is_refused_on_the_command_line(capsys):
    with pytest.raises(SystemExit):
        parse("--tcp", "127.0.0.1:2323", "--mdns-name", "my fridge")
    assert "may hold only letters and digits" in capsys.readouterr().err


def test_an_announcement_that_fails_logs_one_line_and_answers_false(monkeypatch, caplog):
    import zeroconf.asyncio

    def no_multicast(*args, **kwargs):
        raise OSError(19, "No such device")

    monkeypatch.setattr(zeroconf.asyncio, "AsyncZeroconf", no_multicast)
    advertiser = Advertiser(Announcement("fridge1", {"board": "Fermentrack-sim"}))
    with caplog.at_level(logging.INFO, logger="fermentrack.firmware.advertise"):
        assert asyncio.run(advertiser.start("127.0.0.1", 2323)) is False
        asyncio.run(advertiser.close())
    assert [record.getMessage() for record in caplog.records] == [
        "mDNS advertising off: OSError: [Errno 19] No such device; still serving"
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_firmware_serves_without_zeroconf_installed(tmp_path):
    port = free_port()
    code = (
        "import sys; sys.modules['zeroconf'] = None\n"
        "from fermentrack.cli import main\n"
        f"sys.exit(main(['firmware', '--eeprom', {str(tmp_path / 'fw')!r}, "
        f"'--tcp', '127.0.0.1:{port}', '--mdns-name', 'fridge1']))"
    )
    firmware = subprocess.Popen(
        [sys.executable, "-c", code],
        env={"FERMENTRACK_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "listening on" in firmware.stdout.readline()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as link:
            link.settimeout(5)
            link.sendall(b"n\n")
            answer = b""
            while b"N:" not in answer or not answer.endswith(b"\n"):
                answer += link.recv(4096)
        assert b'"v":"0.2.4"' in answer
    finally:
        firmware.send_signal(signal.SIGTERM)
        _, stderr = firmware.communicate(timeout=10)
    assert firmware.returncode == 0
    mdns_lines = [line for line in stderr.splitlines() if "mDNS" in line]
    assert len(mdns_lines) == 1, stderr
    assert "mDNS advertising off: zeroconf is not installed" in mdns_lines[0]
