"""The `fermentrack` command: each verb is a thin door into the package that does the work."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

DEFAULT_HOME = "./fermentrack-home"


STACK_VERBS = {
    "start": "start circusd and every service (migrates and collects static files first)",
    "stop": "stop circusd and all its processes",
    "status": "one '<watcher>: <state>' line per watcher",
    "startifstopped": "start circusd only when it is not running (what cron runs)",
    "add2cron": "add the @reboot and */10 entries to your crontab, if missing",
    "quickstart": "set up an admin, a simulated chamber and a beer when missing, then start",
}


def home_folder() -> Path:
    """FERMENTRACK_HOME, where all state lives (ARCHITECTURE.md, 'Where state lives')."""
    return Path(os.environ.get("FERMENTRACK_HOME", DEFAULT_HOME)).resolve()


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT such as 127.0.0.1:2323, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 100_000:
        raise argparse.ArgumentTypeError(
            f"speed must be a number above 0 and at most 100000, got {text!r}"
        )
    return value


def _mdns_name(text: str) -> str:
    from fermentrack.brewpi.mdns import check_mdns_name

    try:
        return check_mdns_name(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _browse_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.5 <= value <= 60:
        raise argparse.ArgumentTypeError(f"expected seconds from 0.5 to 60, got {text!r}")
    return value


def _add_firmware_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dialect",
        choices=["esp", "avr"],
        default="esp",
        help="which BrewPi firmware's wire habits to follow (default esp)",
    )
    parser.add_argument(
        "--hardware",
        choices=["sim", "pi"],
        default="sim",
        help="a simulated chamber, or 1-Wire sensors and GPIO relays on a Pi",
    )
    parser.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        help="simulated seconds per real second (simulated hardware only)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fermentrack", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    firmware = verbs.add_parser("firmware", help="run our BrewPi firmware (interfaces.md §3)")
    firmware.add_argument(
        "--eeprom",
        type=Path,
        required=True,
        help="the firmware's own folder: EEPROM file and simulator.json",
    )
    where = firmware.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--tcp",
        type=_host_port,
        metavar="HOST:PORT",
        help="serve the protocol over TCP, one client at a time",
    )
    where.add_argument(
        "--pty",
        type=Path,
        metavar="LINK_PATH",
        help="serve on a pseudo-terminal reachable at LINK_PATH, like a serial port",
    )
    firmware.add_argument(
        "--fit-chamber",
        type=float,
        default=None,
        metavar="CELSIUS",
        help="simulated hardware: on the first start, fit the chamber's probes and relays "
        "and hold the beer at CELSIUS",
    )
    firmware.add_argument(
        "--tiltbridge",
        metavar="URL",
        default=None,
        help="simulated hardware: act as a TiltBridge holding one Tilt in the beer, posting "
        "to URL (e.g. http://127.0.0.1:8000/tiltbridge/) as bridge sim-<folder name>",
    )
    firmware.add_argument(
        "--tilt-colour",
        metavar="COLOUR",
        default=None,
        help="the simulated Tilt's colour (Red, Green, Black, Purple, Orange, Blue, Yellow, Pink)",
    )
    firmware.add_argument(
        "--tilt-every",
        type=int,
        metavar="SECONDS",
        default=900,
        help="simulated seconds between Tilt posts (default 900; at most one a real second)",
    )
    firmware.add_argument(
        "--mdns-name",
        type=_mdns_name,
        metavar="NAME",
        default=None,
        help="with --tcp: announce as NAME._brewpi._tcp by mDNS (letters and digits; default "
        "the --eeprom folder's name in letters and digits)",
    )
    firmware.add_argument(
        "--no-mdns", action="store_true", help="with --tcp: do not announce the firmware by mDNS"
    )
    _add_firmware_arguments(firmware)

    try_chamber = verbs.add_parser(
        "try-chamber", help="run a simulated chamber and show its live state until Ctrl-C"
    )
    try_chamber.add_argument(
        "--tcp",
        type=_host_port,
        default=("127.0.0.1", 2323),
        metavar="HOST:PORT",
        help="also serve the protocol here (default 127.0.0.1:2323)",
    )
    try_chamber.add_argument(
        "--beer",
        type=float,
        default=19.0,
        metavar="CELSIUS",
        help="beer setting on first start (default 19.0)",
    )
    _add_firmware_arguments(try_chamber)
    try_chamber.set_defaults(speed=60.0)

    controller = verbs.add_parser(
        "controller", help="run one device's controller in the foreground (interfaces.md §4)"
    )
    controller.add_argument("name", help="the device's name, e.g. fridge-1")
    controller.add_argument(
        "--listen",
        type=_host_port,
        metavar="HOST:PORT",
        help="also answer the web app over TCP here, for a controller on another computer than "
        "the web app (the web app's device page names the same address)",
    )

    discover = verbs.add_parser(
        "discover",
        help="list serial ports (with a board guess) and BrewPi firmware on the network, "
        "with the link to add each by",
    )
    discover.add_argument(
        "--seconds",
        type=_browse_seconds,
        default=5.0,
        metavar="S",
        help="how long to search the network by mDNS (default 5)",
    )

    tilt_scanner = verbs.add_parser(
        "tilt-scanner",
        help="hear Tilt hydrometers over Bluetooth and post their readings to the web app",
    )
    tilt_scanner.add_argument(
        "--replay",
        type=Path,
        default=None,
        metavar="FILE",
        help="replay recorded advertisements ('<seconds offset> <rssi> <hex data>' lines) "
        "instead of listening, then stop once all is delivered",
    )

    web = verbs.add_parser("web", help="run the web app in the foreground (development, tests)")
    web.add_argument("--port", type=int, default=None, help="default FERMENTRACK_WEB_PORT or 8123")
    web.add_argument("--host", default="127.0.0.1")

    device = verbs.add_parser("device", help="add devices from a script")
    device_actions = device.add_subparsers(dest="device_action", required=True, metavar="ACTION")
    device_add = device_actions.add_parser(
        "add", help="add a device and print its controller token once"
    )
    device_add.add_argument("name", help="lower-case letters, digits and '-', e.g. fridge-1")
    connection = device_add.add_mutually_exclusive_group(required=True)
    connection.add_argument(
        "--link",
        metavar="URL",
        help="tcp://host:port, serial:///dev/ttyUSB0?baud=57600 or serial-by-id://<serial>",
    )
    connection.add_argument(
        "--simulated", action="store_true", help="a simulated chamber run by our firmware here"
    )
    connection.add_argument(
        "--pi-gpio",
        action="store_true",
        help="our firmware here, on this Pi's 1-Wire probes and GPIO relays (fermentrack.env "
        "names the pins)",
    )
    device_add.add_argument("--dialect", choices=["esp", "avr"], default="esp")
    device_add.add_argument(
        "--controller-address",
        metavar="HOST:PORT",
        default="",
        help="the controller runs on another computer and answers there (started with "
        "--listen); the spawner then runs none here",
    )
    device_add.add_argument(
        "--interval", type=int, default=30, metavar="S", help="log interval in seconds (default 30)"
    )
    device_add.add_argument(
        "--format",
        dest="temp_format",
        choices=["C", "F"],
        default=None,
        help="temperature unit (default: the brewery's)",
    )

    for verb, text in STACK_VERBS.items():
        verbs.add_parser(verb, help=text)
    nginx = verbs.add_parser("nginx-site", help="print a site for the system's nginx")
    nginx.add_argument(
        "--port", type=int, default=None, help="default FERMENTRACK_HTTP_PORT, or 443 with --tls"
    )
    nginx.add_argument("--server-name", default="_", help="nginx server_name (default _)")
    nginx.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with the site's own certificate (made under FERMENTRACK_HOME/tls the "
        "first time, for this computer's names and addresses)",
    )
    nginx.add_argument(
        "--redirect-port",
        type=int,
        default=None,
        help="with --tls: plain HTTP here is sent to HTTPS (default 80; 0 for none)",
    )
    nginx.add_argument(
        "--name",
        action="append",
        default=[],
        metavar="NAME",
        help="with --tls: another name or address the certificate is for (repeatable)",
    )
    nginx.add_argument("--renew", action="store_true", help="with --tls: make a new certificate")
    verbs.add_parser("systemd-unit", help="print a systemd unit (instead of add2cron)")

    backup = verbs.add_parser(
        "backup", help="write one archive of the database and the firmware's files"
    )
    backup.add_argument(
        "--to",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="where to write it (default FERMENTRACK_HOME/backups)",
    )
    backup.add_argument(
        "--nightly",
        action="store_true",
        help="what cron runs: a backup only when nightly backups are on, keeping the last N",
    )
    restore = verbs.add_parser(
        "restore", help="replace the database and the firmware's files with an archive's"
    )
    restore.add_argument("file", help="an archive made by `fermentrack backup`")

    manage = verbs.add_parser("manage", help="Django's manage.py with FERMENTRACK_HOME settings")
    manage.add_argument("arguments", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        from fermentrack.config import load_environment_file

        load_environment_file()
        if args.verb == "firmware":
            from fermentrack.firmware.main import run_firmware

            return run_firmware(args)
        if args.verb == "try-chamber":
            from fermentrack.firmware.try_chamber import try_chamber

            return try_chamber(args, home_folder())
        if args.verb == "controller":
            from fermentrack.controller.main import run_controller

            return run_controller(args.name, listen=args.listen)
        if args.verb == "discover":
            from fermentrack.web.devices.discover_command import run_discover

            return run_discover(args)
        if args.verb == "tilt-scanner":
            from fermentrack.gravity.scanner import run_tilt_scanner

            return run_tilt_scanner(args.replay)
        if args.verb == "device":
            from fermentrack.web.devices.command_line import run_device_add

            return run_device_add(args)
        if args.verb in STACK_VERBS or args.verb in ("nginx-site", "systemd-unit"):
            from fermentrack.procman.verbs import run_stack_verb

            return run_stack_verb(args)
        if args.verb == "backup":
            from fermentrack.web.backups.command_line import run_backup

            return run_backup(args)
        if args.verb == "restore":
            from fermentrack.web.backups.command_line import run_restore

            return run_restore(args)
        if args.verb == "manage":
            from fermentrack.web.manage import run_manage

            return run_manage(args.arguments)
        if args.verb == "web":
            from fermentrack.web.serve import run_web

            return run_web(args.host, args.port)
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError) as error:  # ConfigError is a ValueError
        print(f"fermentrack {args.verb}: {error}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
