"""One controller polling a simulated chamber: its memory, its CPU, and how fast `set_mode` is.

Run by hand: `.venv/bin/python bench/controller.py [--minutes 10] [--tries 200]`. Starts, in a
temporary FERMENTRACK_HOME, the web app, our firmware (simulated chamber, real time) and one
controller logging every 30 s, as a brewery runs them. Prints:

- the controller's resident memory (VmRSS from /proc), target at most 30 MB;
- its CPU time over the window as a share of one core, target at most 0.5 %;
- the round trip of `set_mode` through controller/client.py until the firmware's echoed
  settings show it (p50, p95 over the tries), target p95 at most 300 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

FERMENTRACK = [sys.executable, "-m", "fermentrack.cli"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception:
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise SystemExit(f"bench: {what} did not happen within {timeout} s")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"bench: no VmRSS for process {pid}")


def pss_mb(pid: int) -> float:
    """Proportional set size: shared pages (libpython, libcrypto) split among their users."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    # Fields after the command name (which may hold spaces): utime is the 14th, stime the 15th.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="CPU window (default 10)")
    parser.add_argument("--tries", type=int, default=200, help="set_mode round trips (200)")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="ft-bench-", dir="/tmp"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("FERMENTRACK_")}
    env.pop("DATABASE_URL", None)
    env["FERMENTRACK_HOME"] = os.environ["FERMENTRACK_HOME"] = str(home)
    from fermentrack.controller import client
    from fermentrack.firmware.simulated_hardware import default_wiring

    processes: list[subprocess.Popen] = []
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    try:
        web_port, firmware_port = free_port(), free_port()
        processes.append(
            subprocess.Popen([*FERMENTRACK, "web", "--port", str(web_port)], env=env, **quiet)
        )
        wait_for(
            lambda: httpx.get(f"http://127.0.0.1:{web_port}/api/openapi.json").is_success,
            60,
            "the web app answering",
        )
        firmware = subprocess.Popen(
            [
                *FERMENTRACK,
                "firmware",
                "--eeprom",
                str(home / "firmware" / "bench"),
                "--tcp",
                f"127.0.0.1:{firmware_port}",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        processes.append(firmware)
        firmware.stdout.readline()  # "listening on ..."
        link = f"tcp://127.0.0.1:{firmware_port}"
        token = subprocess.run(
            [*FERMENTRACK, "device", "add", "bench", "--link", link, "--interval", "30"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        controller = subprocess.Popen(
            [*FERMENTRACK, "controller", "bench"],
            env=env
            | {
                "FERMENTRACK_DEVICE_TOKEN": token,
                "FERMENTRACK_API_URL": (f"http://127.0.0.1:{web_port}"),
            },
            **quiet,
        )
        processes.append(controller)
        wait_for(lambda: client.status("bench")["connected"], 30, "the controller connecting")
        for defn in default_wiring():
            definition = {"i": defn.slot, "c": 1, "b": defn.beer, "f": int(defn.function)}
            definition |= {"h": int(defn.hardware), "p": defn.pin, "x": int(defn.invert)}
            if defn.address:
                definition |= {"a": defn.address, "j": 0.0}
            client.apply_device("bench", definition)
        client.set_mode("bench", "beer_constant", 19.0)
        time.sleep(5)  # let the start-up settle

        window_s = args.minutes * 60
        print(f"controller pid {controller.pid}; measuring CPU over {window_s:.0f} s ...")
        cpu_before, wall_before = cpu_seconds(controller.pid), time.monotonic()
        peak_rss = rss_mb(controller.pid)
        while time.monotonic() - wall_before < window_s:
            time.sleep(min(10, window_s))
            peak_rss = max(peak_rss, rss_mb(controller.pid))
        cpu_share = (cpu_seconds(controller.pid) - cpu_before) / (time.monotonic() - wall_before)
        status = client.status("bench")

        round_trips = []
        for attempt in range(args.tries):
            temperature = 19.0 if attempt % 2 else 19.5
            started = time.perf_counter()
            answer = client.set_mode("bench", "beer_constant", temperature)
            round_trips.append((time.perf_counter() - started) * 1000)
            if answer["settings"]["beerSet"] != temperature:
                raise SystemExit(f"bench: the firmware echoed {answer['settings']}")
        peak_rss = max(peak_rss, rss_mb(controller.pid))

        print(
            f"points logged: {status['points_logged']}, outbox backlog {status['outbox_backlog']}"
        )
        print(
            f"resident memory: {peak_rss:.1f} MB (target <= 30 MB); "
            f"proportional (PSS) {pss_mb(controller.pid):.1f} MB"
        )
        print(f"CPU: {cpu_share * 100:.3f} % of a core over {window_s:.0f} s (target <= 0.5 %)")
        print(
            f"set_mode round trip over {args.tries}: p50 {percentile(round_trips, 0.5):.1f} ms, "
            f"p95 {percentile(round_trips, 0.95):.1f} ms, "
            f"max {max(round_trips):.1f} ms, mean {statistics.fmean(round_trips):.1f} ms "
            "(target p95 <= 300 ms)"
        )
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
