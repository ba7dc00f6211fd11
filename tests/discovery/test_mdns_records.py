"""The `_brewpi._tcp` record's rules, and what a browse answers about what it found."""

from __future__ import annotations

import sys

import pytest

from fermentrack.brewpi import mdns
from fermentrack.discovery import network
from fermentrack.discovery.network import BrewPiBrowser, FoundBrewPi, browse_brewpi


def test_an_mdns_name_is_made_of_the_letters_and_digits_of_a_folder_name():
    assert mdns.mdns_name_from("fridge-1") == "fridge1"
    assert mdns.mdns_name_from("Keezer_Two") == "KeezerTwo"
    assert mdns.mdns_name_from("---") == "brewpi"
    assert len(mdns.mdns_name_from("x" * 100)) == 63


def test_an_mdns_name_with_other_characters_is_refused_with_what_is_expected():
    with pytest.raises(ValueError, match=r"'my fridge' may hold only letters and digits"):
        mdns.check_mdns_name("my fridge")
    assert mdns.check_mdns_name("fridge1") == "fridge1"


def test_txt_values_are_read_as_code_page_437():
    txt = mdns.decode_txt(
        {b"board": b"ESP8266", b"Version": b"0.2.4", b"note": b"caf\x82", b"x": None}
    )
    assert txt == {"board": "ESP8266", "version": "0.2.4", "note": "café", "x": ""}


def test_esp_boards_imply_the_esp_dialect_and_others_none():
    assert mdns.dialect_for_board("ESP32-C3") == "esp"
    assert mdns.dialect_for_board("esp8266") == "esp"
    assert mdns.dialect_for_board("Fermentrack-sim") is None


def esp_on_wifi(**changes) -> FoundBrewPi:
    found = FoundBrewPi(
        name="brewpi1",
        host="brewpi1.local",
        addresses=["192.168.1.20"],
        port=23,
        txt={"board": "ESP8266", "branch": "legacy", "version": "0.2.4", "revision": "0.15"},
    )
    for key, value in changes.items():
        setattr(found, key, value)
    return found


def test_a_real_esp_firmware_found_reads_as_esp_with_its_version():
    found = esp_on_wifi()
    assert (found.board, found.version, found.revision, found.branch) == (
        "ESP8266",
        "0.2.4",
        "0.15",
        "legacy",
    )
    assert found.dialect == "esp"


def test_the_link_uses_the_host_name_when_this_computer_resolves_it_else_the_address():
    assert esp_on_wifi(host_resolves=True).link == "tcp://brewpi1.local:23"
    assert esp_on_wifi(host_resolves=False).link == "tcp://192.168.1.20:23"


@pytest.mark.parametrize(
    "link",
    [
        "tcp://brewpi1.local:23",
        "tcp://BrewPi1:23",
        "tcp://192.168.1.20:23",
        "tcp://brewpi1.local.:23",
    ],
)
def test_a_device_added_by_host_name_or_address_and_port_is_marked(link):
    assert network._user_of(esp_on_wifi(), {link: "fridge-1"}) == "fridge-1"


@pytest.mark.parametrize(
    "link", ["tcp://192.168.1.20:24", "tcp://brewpi2.local:23", "serial:///dev/ttyUSB0"]
)
def test_another_port_or_host_is_not_marked(link):
    assert network._user_of(esp_on_wifi(), {link: "fridge-1"}) is None


def test_a_network_that_cannot_be_browsed_gives_an_empty_list_and_a_message(monkeypatch, caplog):
    def no_network(self):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(BrewPiBrowser, "open", no_network)
    result = browse_brewpi(0.1)
    assert result.found == []
    assert "could not search the network" in result.problem
    assert "Network is unreachable" in result.problem
    assert "mDNS browse failed: OSError" in caplog.text


def test_without_zeroconf_a_browse_says_what_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "zeroconf", None)
    result = browse_brewpi(0.1)
    assert result.found == []
    assert result.problem == "searching the network needs the zeroconf package"
