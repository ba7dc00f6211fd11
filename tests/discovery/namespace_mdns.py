"""Run inside a fresh network namespace (`unshare -rn`): bring loopback up with multicast, start
our firmware serving TCP (one advertising, one with --no-mdns), browse for it, stop it, and
print what was seen as one JSON object on stdout.

Usage: namespace_mdns.py HOME PORT MDNS_NAME
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fermentrack.discovery.network import BrewPiBrowser, browse_brewpi

FERMENTRACK = [sys.executable, "-m", "fermentrack.cli"]


def bring_loopback_up() -> None:
    for command in (
        ["ip", "link", "set", "lo", "up"],
        ["ip", "link", "set", "lo", "multicast", "on"],
        ["ip", "route", "add", "224.0.0.0/4", "dev", "lo"],
    ):
        subprocess.run(command, check=True)


def start_firmware(home: Path, folder: str, port: int, *options: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            *FERMENTRACK,
            "firmware",
            "--eeprom",
            str(home / "firmware" / folder),
            "--tcp",
            f"127.0.0.1:{port}",
            *options,
        ],
        env={**os.environ, "FERMENTRACK_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if "listening on" not in line:
        process.kill()
        raise SystemExit(f"firmware did not start: {line!r} {process.stderr.read()}")
    return process


def wait_for(condition, timeout: float) -> float | None:
    """Seconds until `condition()` held, or None when it never did within `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return round(time.monotonic() - start, 2)
        time.sleep(0.05)
    return None


def stop(process: subprocess.Popen) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    return process.returncode, stderr


def main() -> None:
    home, port, name = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    bring_loopback_up()
    report: dict = {}
    advertised = start_firmware(home, "fridge-1", port, "--mdns-name", name)
    silent = start_firmware(home, "quiet-1", port + 1, "--no-mdns")
    try:
        with BrewPiBrowser() as browser:
            report["seen_after_s"] = wait_for(lambda: name in browser.names(), 8.0)
            report["browser_found"] = [found.as_dict() for found in browser.found()]
            one_shot = browse_brewpi(1.5, {f"tcp://127.0.0.1:{port}": "fridge-1"})
            report["browse"] = [found.as_dict() for found in one_shot.found]
            report["browse_problem"] = one_shot.problem
            discover = subprocess.run(
                [*FERMENTRACK, "discover", "--seconds", "1.5"],
                env={**os.environ, "FERMENTRACK_HOME": str(home)},
                capture_output=True,
                text=True,
                timeout=30,
            )
            report["discover_stdout"] = discover.stdout
            report["discover_returncode"] = discover.returncode
            stopped_at = time.monotonic()
            report["firmware_exit"], report["firmware_stderr"] = stop(advertised)
            report["stop_s"] = round(time.monotonic() - stopped_at, 2)
            report["gone_after_s"] = wait_for(lambda: name not in browser.names(), 5.0)
            report["removed_seen"] = name in browser.removed
        report["browse_after_stop"] = [found.as_dict() for found in browse_brewpi(1.5).found]
    finally:
        for process in (advertised, silent):
            if process.poll() is None:
                stop(process)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
