"""Decoding a Tilt hydrometer's Bluetooth advertisement (gravity-and-push.md §1).

A Tilt is an Apple iBeacon whose proximity UUID names its colour, whose major is the temperature
in °F and whose minor is the specific gravity; a Tilt Pro sends both at ten times the
resolution. The last byte alternates between a stock iBeacon value and the battery's age.
"""

from __future__ import annotations

from dataclasses import dataclass

# §1.2: the UUIDs differ only in the high nibble of their fifth byte.
COLOURS: dict[str, str] = {
    "Red": "a495bb10-c5b1-4b44-b512-1370f02d74de",
    "Green": "a495bb20-c5b1-4b44-b512-1370f02d74de",
    "Black": "a495bb30-c5b1-4b44-b512-1370f02d74de",
    "Purple": "a495bb40-c5b1-4b44-b512-1370f02d74de",
    "Orange": "a495bb50-c5b1-4b44-b512-1370f02d74de",
    "Blue": "a495bb60-c5b1-4b44-b512-1370f02d74de",
    "Yellow": "a495bb70-c5b1-4b44-b512-1370f02d74de",
    "Pink": "a495bb80-c5b1-4b44-b512-1370f02d74de",
}

APPLE_IBEACON_PREFIX = bytes.fromhex("4c000215")  # company 0x004C little-endian, iBeacon, 21 bytes
AD_HEADER = bytes.fromhex("1aff")  # AD length 26, manufacturer specific data
VERSION_BEACON_MAJOR = 999  # §1.5: minor carries the firmware version, not a gravity
PRO_MINOR_FROM = 5000  # §1.3: classic minors are about 990-1200, a Pro's about 9900-12000
IBEACON_FILLER = 197  # §1.4: 0xC5, sent so that iOS shows RSSI; not a battery age

_COLOUR_OF_UUID = {bytes.fromhex(uuid.replace("-", "")): colour for colour, uuid in COLOURS.items()}


@dataclass(frozen=True, slots=True)
class TiltReading:
    """One advertised reading, as sent: uncalibrated gravity (SG) and temperature (°F)."""

    colour: str
    temp_f: float
    gravity: float
    pro: bool
    battery_weeks: int | None  # weeks since the battery was fitted; None when not in this packet
    rssi: int | None  # dBm, the receiver's measurement


@dataclass(frozen=True, slots=True)
class TiltVersion:
    """A version beacon, sent for a few seconds after the Tilt wakes: not a reading."""

    colour: str
    firmware_version: int  # 1004 is what the Tilt app shows as 1.004


def decode_tilt(
    manufacturer_data: bytes, rssi: int | None = None
) -> TiltReading | TiltVersion | None:
    """The reading or version beacon in a manufacturer-specific advertisement; None when it is
    not a Tilt (another beacon, an unknown colour, a frame of the wrong length).

    Takes the 25 bytes BLE stacks deliver (`4C 00 02 15`, UUID, major, minor, power) or the
    27-byte AD structure with its `1A FF` header in front.
    """
    frame = bytes(manufacturer_data)
    if len(frame) == 27 and frame.startswith(AD_HEADER):
        frame = frame[2:]
    if len(frame) != 25 or not frame.startswith(APPLE_IBEACON_PREFIX):
        return None
    colour = _COLOUR_OF_UUID.get(frame[4:20])
    if colour is None:
        return None
    major = int.from_bytes(frame[20:22], "big")
    minor = int.from_bytes(frame[22:24], "big")
    power = frame[24]
    # Before the Pro test: a version beacon's minor (e.g. 1004) would otherwise read as 1.004.
    if major == VERSION_BEACON_MAJOR:
        return TiltVersion(colour, minor)
    pro = minor >= PRO_MINOR_FROM
    return TiltReading(
        colour=colour,
        temp_f=major / 10 if pro else float(major),
        gravity=minor / 10000 if pro else minor / 1000,
        pro=pro,
        battery_weeks=None if power == IBEACON_FILLER else power,
        rssi=rssi,
    )
