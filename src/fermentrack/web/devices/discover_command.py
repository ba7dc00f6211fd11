"""`fermentrack discover`: print the serial ports and the BrewPi firmware on the network, with
the link to add each by, for someone setting up real hardware. Django is set up only to mark
what devices already use, and only when this home has a database."""

from __future__ import annotations

import argparse
import os
import sys

from fermentrack import config
from fermentrack.discovery.network import browse_brewpi
from fermentrack.discovery.serial_ports import list_serial_ports

SQLITE_FILE = "fermentrack.sqlite3"  # settings.py's default database in FERMENTRACK_HOME


def run_discover(args: argparse.Namespace) -> int:
    """Print the serial ports and the BrewPi firmware on the network, with the link to add each
    by. Marks what devices already use when the database can be read."""
    used = _used_links_if_possible()
    ports = list_serial_ports(used)
    print("Serial ports on this computer:")
    if not ports:
        print("  none found (is the board plugged in? try another cable: some carry only power)")
    for port in ports:
        usb = f"USB {port.usb_id}  {port.board}" if port.usb else "not USB"
        print(f"  {port.device}  {usb}")
        details = [port.description] if port.description else []
        if port.serial_number:
            details.append(f"serial number {port.serial_number}")
        if port.by_id:
            details.append(port.by_id)
        if details:
            print(f"      {'; '.join(details)}")
        print(f"      {_add_hint(port.link, port.used_by, port.dialect)}")
    print(f"\nBrewPi firmware on the network (searching {args.seconds:g} s):", flush=True)
    result = browse_brewpi(args.seconds, used)
    if result.problem:
        print(f"  {result.problem}")
    elif not result.found:
        print("  none found (is it powered and on the same network as this computer?)")
    for found in result.found:
        txt = ", ".join(f"{key} {value}" for key, value in found.txt.items() if value)
        print(f"  {found.name}  {found.host} ({', '.join(found.addresses)}) port {found.port}")
        if txt:
            print(f"      {txt}")
        print(f"      {_add_hint(found.link, found.used_by, found.dialect)}")
    return 0


def _add_hint(link: str, used_by: str | None, dialect: str | None) -> str:
    if used_by:
        return f"already used by device {used_by} ({link})"
    dialect_option = f" --dialect {dialect}" if dialect else ""
    return f"add with: fermentrack device add NAME --link '{link}'{dialect_option}"


def _used_links_if_possible() -> dict[str, str]:
    if not config.env_text("DATABASE_URL", "") and not (config.home() / SQLITE_FILE).exists():
        return {}  # no brewery set up here yet: nothing can be in use
    try:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fermentrack.web.settings")
        import django

        django.setup()
        from fermentrack.web.devices.discovery import used_links

        return used_links()
    except Exception as error:  # no database yet, or one we cannot open: list anyway
        print(f"(devices not read, so ports in use are not marked: {error})", file=sys.stderr)
        return {}
