"""The add-device page finds devices: serial ports on this computer, BrewPi firmware on the
network, each with "Use this" filling the form (and the form accepting what it filled)."""

from __future__ import annotations

import html
import json

import pytest
from django.urls import reverse

from discovery.usb_ports import CH340_BY_ID, brewery_ports
from fermentrack.discovery import serial_ports
from fermentrack.discovery.network import BrowseResult, FoundBrewPi
from fermentrack.web.devices import discovery
from fermentrack.web.devices.models import Device

pytestmark = pytest.mark.django_db

ADD = reverse("device_add")
NETWORK = reverse("device_discover_network")


@pytest.fixture
def ports(tmp_path, monkeypatch):
    """This computer has a genuine Uno, a CH340 clone, an ESP32 DevKit, Bluetooth and a UART."""
    comports, folder = brewery_ports(tmp_path)

    def listing(used_links=None):
        return serial_ports.list_serial_ports(used_links, by_id_dir=folder, comports=comports)

    monkeypatch.setattr(discovery, "list_serial_ports", listing)
    return folder


def on_network(monkeypatch, *found: FoundBrewPi, problem: str | None = None) -> list:
    asked = []

    def browse(seconds, used_links=None):
        asked.append(seconds)
        for device in found:
            device.used_by = next(
                (name for link, name in (used_links or {}).items() if link == device.link), None
            )
        return BrowseResult(list(found), problem)

    monkeypatch.setattr(discovery, "browse_brewpi", browse)
    return asked


def esp_found(**changes) -> FoundBrewPi:
    found = FoundBrewPi(
        name="brewpi1",
        host="brewpi1.local",
        addresses=["192.168.1.20"],
        port=23,
        txt={"board": "ESP32", "branch": "legacy", "version": "0.2.4", "revision": "0.15"},
        host_resolves=True,
    )
    for key, value in changes.items():
        setattr(found, key, value)
    return found


def fills(page: str) -> list[dict]:
    """The values each "Use this" on the page fills in."""
    values = []
    for part in page.split('data-fill="')[1:]:
        values.append(json.loads(html.unescape(part.split('"', 1)[0])))
    return values


def test_the_add_page_lists_the_serial_ports_with_their_board(brewer_client, ports):
    page = brewer_client.get(ADD).content.decode()
    assert "Found on this computer" in page
    assert "Arduino Uno R3" in page and "USB 2341:0043" in page
    assert "serial number 75237333536351F0B0A1" in page
    assert "CH340: a clone Arduino Uno/Nano/Mega" in page
    assert page.index("/dev/ttyUSB1") < page.index("/dev/rfcomm0") < page.index("/dev/ttyAMA0")
    assert page.count("not USB") == 2
    assert fills(page)[:3] == [
        {
            "connection": "serial_by_id",
            "usb_serial": "75237333536351F0B0A1",
            "baud": 57600,
            "dialect": "avr",
        },
        {"connection": "serial", "serial_port": f"{ports / CH340_BY_ID}", "baud": 57600},
        {"connection": "serial_by_id", "usb_serial": "0001", "baud": 57600, "dialect": "esp"},
    ]


def test_a_port_a_device_already_uses_is_marked_and_not_offered(brewer_client, ports):
    brewer_client.post(
        ADD,
        {
            "name": "fridge-1",
            "connection": "serial_by_id",
            "usb_serial": "75237333536351F0B0A1",
            "baud": "57600",
            "dialect": "avr",
            "log_interval_s": "30",
            "temp_format": "C",
        },
    )
    page = brewer_client.get(ADD).content.decode()
    assert "used by fridge-1" in page
    assert "75237333536351F0B0A1" not in json.dumps(fills(page))


def test_no_serial_port_says_how_to_plug_a_board_in(brewer_client, monkeypatch):
    monkeypatch.setattr(discovery, "list_serial_ports", lambda used_links=None: [])
    page = brewer_client.get(ADD).content.decode()
    assert "No serial port found. Plug the board in with a USB data cable" in page


def test_use_this_without_javascript_fills_the_form_from_the_link(brewer_client, ports):
    query = "?link=serial-by-id%3A%2F%2F75237333536351F0B0A1&dialect=avr"
    form = brewer_client.get(ADD + query).context["form"]
    assert form["connection"].value() == "serial_by_id"
    assert form["usb_serial"].value() == "75237333536351F0B0A1"
    assert form["dialect"].value() == "avr"
    assert form["name"].value() is None


def test_a_query_that_is_no_link_fills_nothing(brewer_client, ports):
    form = brewer_client.get(ADD + "?link=javascript:alert(1)&name=Bad Name").context["form"]
    assert form["connection"].value() == "simulated"


@pytest.mark.parametrize("which", [0, 1, 2, 3, 4])
def test_the_form_accepts_what_use_this_filled_and_stores_the_offered_link(
    brewer_client, ports, which
):
    choice = discovery.serial_choices()[which]
    # udev's folder is /dev/serial/by-id, where the form wants device paths; ours is a tmp one.
    values = {
        key: str(value).replace(str(ports), "/dev/serial/by-id")
        for key, value in choice.values.items()
    }
    data = {"name": f"board-{which}", "log_interval_s": "30", "temp_format": "C"}
    data["dialect"] = "esp"
    response = brewer_client.post(ADD, {**data, **values})
    assert response.status_code == 302, response.context["form"].errors
    stored = Device.objects.get(name=f"board-{which}")
    assert stored.link == choice.found.link.replace(str(ports), "/dev/serial/by-id")
    assert stored.dialect == choice.values.get("dialect", "esp")


def test_searching_the_network_lists_brewpi_firmware_with_use_this(brewer_client, monkeypatch):
    asked = on_network(monkeypatch, esp_found())
    response = brewer_client.get(NETWORK, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert asked == [3.0]
    assert "brewpi1" in page and "ESP32 0.2.4 (0.15)" in page
    assert "brewpi1.local (192.168.1.20) · port 23" in page
    assert fills(page) == [
        {
            "connection": "tcp",
            "host": "brewpi1.local",
            "port": 23,
            "dialect": "esp",
            "name": "brewpi1",
        }
    ]
    data = {"log_interval_s": "30", "temp_format": "C", **fills(page)[0]}
    brewer_client.post(ADD, data)
    assert Device.objects.get(name="brewpi1").link == "tcp://brewpi1.local:23"


def test_a_hostile_mdns_name_and_txt_reach_the_page_as_text_only(brewer_client, monkeypatch):
    script = '<script>alert("hop")</script>'
    on_network(
        monkeypatch,
        esp_found(name=f"x{script}", txt={"board": script, "version": '"><img src=x>'}),
    )
    page = brewer_client.get(NETWORK).content.decode()
    assert "<script>" not in page and "<img" not in page
    assert html.escape(script) in page
    assert fills(page)[0]["name"] == "x-script-alert-hop-script"


def test_firmware_found_that_a_device_already_uses_is_marked(brewer_client, monkeypatch):
    Device.objects.create(name="fridge-1", link="tcp://brewpi1.local:23")
    on_network(monkeypatch, esp_found())
    page = brewer_client.get(NETWORK).content.decode()
    assert "used by fridge-1" in page and fills(page) == []


def test_nothing_found_on_the_network_says_what_to_check(brewer_client, monkeypatch):
    on_network(monkeypatch)
    page = brewer_client.get(NETWORK).content.decode()
    assert "No BrewPi firmware answered within 3 seconds" in page


def test_a_network_that_cannot_be_searched_says_why_on_the_page(brewer_client, monkeypatch):
    on_network(monkeypatch, problem="could not search the network (no multicast)")
    response = brewer_client.get(NETWORK)
    assert response.status_code == 200
    assert "Could not search the network (no multicast)." in response.content.decode()


def test_the_network_search_is_a_button_that_shows_it_is_searching(brewer_client, ports):
    page = brewer_client.get(ADD).content.decode()
    assert f'hx-get="{NETWORK}"' in page
    assert 'hx-indicator="#network-searching"' in page
    assert "Searching the network…" in page
    assert "devices/discovery" in page and ".js" in page


def test_a_guest_cannot_search_the_network(guest_client, monkeypatch):
    on_network(monkeypatch, esp_found())
    assert guest_client.get(NETWORK).status_code == 403


def test_editing_a_device_shows_no_discovery(brewer_client, ports):
    Device.objects.create(name="fridge-1", link="tcp://brewpi1.local:23")
    page = brewer_client.get(reverse("device_edit", args=["fridge-1"])).content.decode()
    assert "Found on this computer" not in page
