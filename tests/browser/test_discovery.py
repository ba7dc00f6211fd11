"""Finding a device on the add-device page in a real browser, at a phone's width and a
desktop's: "Use this" on a serial port and on firmware found on the network fills the form,
keeping the name the brewer typed, and the device is added with the offered link."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from discovery.usb_ports import brewery_ports
from fermentrack.discovery import serial_ports
from fermentrack.discovery.network import BrowseResult, FoundBrewPi
from fermentrack.web.devices import discovery
from fermentrack.web.devices.models import Device

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def found(tmp_path, monkeypatch):
    """A genuine Uno, a CH340 clone, an ESP32 DevKit, Bluetooth and a UART on this computer;
    an ESP32 running BrewPi on the network, answering after a moment."""
    comports, folder = brewery_ports(tmp_path)
    monkeypatch.setattr(
        discovery,
        "list_serial_ports",
        lambda used_links=None: serial_ports.list_serial_ports(
            used_links, by_id_dir=folder, comports=comports
        ),
    )

    def browse(seconds, used_links=None):
        time.sleep(0.5)  # long enough to see the page say it is searching
        return BrowseResult(
            [
                FoundBrewPi(
                    name="brewpi1",
                    host="brewpi1.local",
                    addresses=["192.168.1.20"],
                    port=23,
                    txt={"board": "ESP32", "branch": "legacy", "version": "0.2.4"},
                    host_resolves=True,
                )
            ]
        )

    monkeypatch.setattr(discovery, "browse_brewpi", browse)


def test_use_this_fills_the_form_from_a_serial_port_and_from_the_network(
    page, log_in, brewer, found, shoot, assert_fits_width
):
    log_in(brewer)
    page.goto("/devices/add/")
    ports = page.locator(".discovery .found")
    expect(ports).to_have_count(5)
    expect(ports.first).to_contain_text("Arduino Uno R3")
    expect(ports.last).to_contain_text("not USB")
    assert_fits_width()
    shoot("device-add-found")

    page.get_by_label("Name", exact=True).fill("fermenter-1")
    ports.first.get_by_role("link", name="Use this").click()
    expect(page.get_by_label("Serial, found by its USB serial number")).to_be_checked()
    expect(page.get_by_role("textbox", name="USB serial number")).to_have_value(
        "75237333536351F0B0A1"
    )
    expect(page.get_by_label("Firmware", exact=True)).to_have_value("avr")
    expect(page.get_by_label("Name", exact=True)).to_have_value("fermenter-1")
    expect(ports.first.get_by_role("link", name="Chosen ✓")).to_be_visible()

    page.get_by_role("button", name="Search the network").click()
    expect(page.get_by_text("Searching the network…")).to_be_visible()
    network = page.locator("#found-network .found")
    expect(network).to_have_count(1)
    expect(network).to_contain_text("brewpi1.local (192.168.1.20) · port 23")
    expect(page.get_by_text("Searching the network…")).to_be_hidden()
    assert_fits_width()
    shoot("device-add-network")

    network.get_by_role("link", name="Use this").click()
    expect(page.get_by_label("Network (WiFi or TCP): host and port")).to_be_checked()
    expect(page.get_by_label("Host", exact=True)).to_have_value("brewpi1.local")
    expect(page.get_by_label("Port", exact=True)).to_have_value("23")
    expect(page.get_by_label("Firmware", exact=True)).to_have_value("esp")
    expect(page.get_by_label("Name", exact=True)).to_have_value("fermenter-1")
    expect(ports.first.get_by_role("link", name="Use this")).to_be_visible()

    page.get_by_role("button", name="Add device").click()
    expect(page.get_by_text("fermenter-1", exact=False).first).to_be_visible()
    assert Device.objects.get(name="fermenter-1").link == "tcp://brewpi1.local:23"
