"""The whole stack with 20 simulated chambers: its CPU, its memory per process kind, its points.

Run by hand: `.venv/bin/python bench/stack.py [--minutes 10] [--devices 20] [--interval 30]`.
In a temporary FERMENTRACK_HOME (a short path under /tmp, a free web port) it runs `fermentrack
quickstart`, adds simulated chambers with `fermentrack device add` until there are `--devices`,
all logging every `--interval` seconds, waits until every `dev-`/`fw-` watcher is active and
every controller reports its firmware connected, then measures over `--minutes`:

- the CPU time (utime + stime from /proc/<pid>/stat) of circusd and all its descendants
  (gunicorn's workers, circusd-stats, the spawner, controllers, firmware) as a share of one
  core, total and per process kind; target at most 10 %. A process that ends during the window
  is counted up to its last sample (every SAMPLE_S), and the count of such is printed;
- the resident memory (VmRSS) per process kind: count, mean, max, and the total (with the
  total PSS, where the pages these Pythons share are counted once);
- the log points stored with a time in the window, against window / interval per device
  (± 1 at the window's edges), and the points missing (gaps in each device's series);
  target every expected point stored.

The stack is stopped at the end whatever happens; the home folder is deleted unless `--keep`.
`--set NAME=VALUE` passes a setting to the stack (e.g. FERMENTRACK_SPAWNER_INTERVAL_S=10), to
measure what a setting changes.

`--integrations` also turns on what a brewery may add, to measure what each costs: a generic
push target every minute (to a local HTTP recorder), MQTT with Home Assistant discovery (to a
mosquitto the bench starts; a subscriber counts the state messages) and two alert rules per
chamber (no readings for 10 minutes, beer outside 10–30 °C; webhook to the recorder). It prints
the pushes and MQTT state messages received in the window, and any alert (there should be none).
"""

from __future__ import annotations

import argparse
import http.server
import itertools
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

FERMENTRACK = [sys.executable, "-m", "fermentrack.cli"]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CPU_TARGET_PERCENT = 10.0
SAMPLE_S = 10.0  # how often the process tree is walked (new processes, memory)
SETTLE_S = 30.0  # after the last controller connects, before the window opens
STARTUP_TIMEOUT_S = 600.0
KINDS = (
    "circusd",
    "circusd-stats",
    "gunicorn master",
    "gunicorn worker",
    "spawner",
    "controller",
    "firmware",
    "push",
    "mqtt bridge",
    "alerter",
    "other",
)


def setting(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name.startswith("FERMENTRACK_"):
        raise argparse.ArgumentTypeError(f"{text!r} is not FERMENTRACK_NAME=VALUE")
    return name, value


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- the process tree from /proc ------------------------------------------------------------------


@dataclass
class Process:
    pid: int
    parent: int
    cpu_s: float  # utime + stime of the process itself
    command_line: str
    rss_mb: float


def read_process(pid: int) -> Process | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None  # it ended while we looked
    # After the command name (which may hold spaces and parentheses): the state is field 3,
    # the parent field 4, utime field 14 and stime field 15.
    fields = stat.rsplit(")", 1)[1].split()
    rss_kb = next(
        (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0
    )
    return Process(
        pid=pid,
        parent=int(fields[1]),
        cpu_s=(int(fields[11]) + int(fields[12])) / CLOCK_TICKS,
        command_line=command_line,
        rss_mb=rss_kb / 1024,
    )


def pss_mb(pid: int) -> float:
    """Proportional set size: the pages shared by all these Pythons split among them."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0
    return next(
        (int(line.split()[1]) / 1024 for line in rollup.splitlines() if line.startswith("Pss:")),
        0.0,
    )


def process_tree(root: int) -> dict[int, Process]:
    """`root` and all its descendants, by pid."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(entry.name))
    tree: dict[int, Process] = {}
    waiting = [root]
    while waiting:
        pid = waiting.pop()
        process = read_process(pid)
        if process is not None:
            tree[pid] = process
            waiting += children.get(pid, [])
    return tree


def kind_of(process: Process, tree: dict[int, Process], root: int) -> str:
    command = process.command_line
    if process.pid == root:
        return "circusd"
    if "procman.circus_stats" in command or "circus import stats" in command:
        return "circusd-stats"  # ours, or circusd's built-in (`statsd = True`)
    if "gunicorn" in command:
        parent = tree.get(process.parent)
        is_worker = parent is not None and "gunicorn" in parent.command_line
        return "gunicorn worker" if is_worker else "gunicorn master"
    if "manage spawner" in command:
        return "spawner"
    if "fermentrack.cli controller" in command:
        return "controller"
    if "fermentrack.cli firmware" in command:
        return "firmware"
    for verb, kind in (("manage pusher", "push"), ("manage mqtt_bridge", "mqtt bridge")):
        if verb in command:
            return kind
    if "manage alerter" in command:
        return "alerter"
    return "other"


# -- the stack ------------------------------------------------------------------------------------


class BenchStack:
    def __init__(self, home: Path, settings: dict[str, str]) -> None:
        self.home = home
        self.web_port = free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FERMENTRACK_")}
        self.env.pop("DATABASE_URL", None)  # the embedded SQLite, as a Pi runs it
        self.env |= {"FERMENTRACK_HOME": str(home), "FERMENTRACK_WEB_PORT": str(self.web_port)}
        self.env |= settings

    def run(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run(
            [*FERMENTRACK, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            raise SystemExit(
                f"bench: fermentrack {' '.join(args)} exited {done.returncode}: "
                f"{done.stderr.strip()[-2000:]}"
            )
        return done.stdout

    def statuses(self) -> dict[str, str]:
        done = subprocess.run(
            [*FERMENTRACK, "status"], env=self.env, capture_output=True, text=True, timeout=60
        )
        pairs = [line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line]
        return dict(pairs)

    def circusd_pid(self) -> int:
        return int((self.home / "run" / "circusd.pid").read_text())

    def query(self, sql: str, *parameters: object) -> list[tuple]:
        database = sqlite3.connect(f"file:{self.home / 'fermentrack.sqlite3'}?mode=ro", uri=True)
        try:
            return database.execute(sql, parameters).fetchall()
        finally:
            database.close()

    def connected_devices(self) -> set[str]:
        rows = self.query("SELECT name, status FROM devices_device WHERE active")
        return {name for name, status in rows if json.loads(status or "{}").get("connected")}

    def point_times(self, device: str, start: float, end: float) -> list[int]:
        rows = self.query(
            "SELECT p.ts FROM beers_logpoint p JOIN devices_device d ON d.id = p.device_id "
            "WHERE d.name = ? AND p.ts >= ? AND p.ts < ? ORDER BY p.ts",
            device,
            int(start),
            int(end),
        )
        return [ts for (ts,) in rows]


def set_up(stack: BenchStack, devices: int, interval_s: int) -> list[str]:
    """quickstart, then simulated chambers until there are `devices`; their names."""
    print(stack.run("quickstart").strip().splitlines()[-1])
    names = [name for (name,) in stack.query("SELECT name FROM devices_device ORDER BY name")]
    if interval_s != 30:  # quickstart's chamber logs at the default
        stack.run(
            "manage",
            "shell",
            "-c",
            "from fermentrack.web.devices.models import Device\n"
            "for d in Device.objects.all():\n"
            f"    d.log_interval_s = {interval_s}; d.save(); d.bump_config_version()",
        )
    number = len(names)
    while len(names) < devices:
        number += 1
        name = f"chamber-{number}"
        stack.run("device", "add", name, "--simulated", "--interval", str(interval_s))
        names.append(name)
    return names


# -- the integrations (--integrations) -------------------------------------------------------------


class Recorder(http.server.BaseHTTPRequestHandler):
    """Counts what the push process and the alerts' webhook post, by path, with their times."""

    received: list[tuple[float, str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.received.append((time.time(), self.path))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


class Integrations:
    """A local HTTP recorder, a mosquitto and an MQTT subscriber counting state messages."""

    def __init__(self, home: Path) -> None:
        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.mqtt_port = free_port()
        config = home / "mosquitto.conf"
        config.write_text(f"listener {self.mqtt_port} 127.0.0.1\nallow_anonymous true\n")
        self.broker = subprocess.Popen(
            [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.states: list[float] = []
        import paho.mqtt.client as mqtt

        self.subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.subscriber.on_connect = lambda client, *_: client.subscribe("fermentrack/+/state")
        self.subscriber.on_message = lambda *_: self.states.append(time.time())
        self.subscriber.connect_async("127.0.0.1", self.mqtt_port)
        self.subscriber.loop_start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_port}"

    def configure(self, stack: BenchStack) -> None:
        stack.run(
            "manage",
            "shell",
            "-c",
            "from fermentrack.web.alerts.models import AlertRule\n"
            "from fermentrack.web.devices.models import Device\n"
            "from fermentrack.web.mqtt.models import MqttSettings\n"
            "from fermentrack.web.push.models import PushTarget\n"
            f"PushTarget.objects.create(name='bench', service='generic', url='{self.url}/push', "
            "interval_s=60, send_controllers='all', send_sensors='all')\n"
            f"MqttSettings.objects.update_or_create(pk=1, defaults=dict(enabled=True, "
            f"host='127.0.0.1', port={self.mqtt_port}))\n"
            "for d in Device.objects.all():\n"
            f"    AlertRule.objects.create(kind='controller_silent', device=d, duration_s=600, "
            f"webhook_url='{self.url}/alert')\n"
            f"    AlertRule.objects.create(kind='temperature_band', device=d, duration_s=600, "
            f"low=10, high=30, webhook_url='{self.url}/alert')\n",
        )

    def report(self, start: float, end: float) -> None:
        within = [path for at, path in Recorder.received if start <= at < end]
        states = [at for at in self.states if start <= at < end]
        minutes = (end - start) / 60
        print(
            f"integrations: {within.count('/push')} pushes in {minutes:.1f} min (one a minute "
            f"asked), {len(states)} MQTT state messages, {within.count('/alert')} alerts sent"
        )

    def stop(self) -> None:
        self.subscriber.loop_stop()
        self.broker.terminate()
        self.broker.wait(10)
        self.http.shutdown()


def wait_until_running(
    stack: BenchStack, names: list[str], extra_watchers: tuple[str, ...] = ()
) -> None:
    watchers = {f"{prefix}-{name}" for name in names for prefix in ("dev", "fw")}
    watchers |= set(extra_watchers)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    shown = None
    while True:
        statuses = stack.statuses()
        active = {name for name in watchers if statuses.get(name) == "active"}
        connected = stack.connected_devices() & set(names)
        progress = (len(active), len(connected))
        if progress != shown:
            print(
                f"  {len(active)}/{len(watchers)} device watchers active, "
                f"{len(connected)}/{len(names)} controllers connected"
            )
            shown = progress
        if len(active) == len(watchers) and len(connected) == len(names):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: the stack did not come up within {STARTUP_TIMEOUT_S:.0f} s")
        time.sleep(5)


# -- measuring ------------------------------------------------------------------------------------


@dataclass
class Tracked:
    kind: str
    cpu_at_start: float  # 0 for a process born during the window
    cpu_last: float
    rss_mb: float
    born: bool  # started during the window
    alive: bool = True


def measure(stack: BenchStack, window_s: float) -> tuple[dict[int, Tracked], float, float, float]:
    """Walk circusd's process tree every SAMPLE_S over the window. Returns the processes seen,
    the window's start and end (Unix time) and its length in monotonic seconds."""
    root = stack.circusd_pid()
    tracked: dict[int, Tracked] = {}

    def sample(first: bool) -> None:
        tree = process_tree(root)
        for pid, seen in tracked.items():
            seen.alive = pid in tree
        for pid, process in tree.items():
            if pid in tracked:
                tracked[pid].cpu_last, tracked[pid].rss_mb = process.cpu_s, process.rss_mb
            else:
                base = process.cpu_s if first else 0.0
                kind = kind_of(process, tree, root)
                tracked[pid] = Tracked(kind, base, process.cpu_s, process.rss_mb, born=not first)

    started_at, started = time.time(), time.monotonic()
    sample(first=True)
    while (left := window_s - (time.monotonic() - started)) > 0:
        time.sleep(min(SAMPLE_S, left))
        sample(first=False)
    return tracked, started_at, started_at + window_s, time.monotonic() - started


def missing_points(times: list[int], start: float, end: float, interval_s: int) -> int:
    """Polls that left no point in [start, end): whole intervals without a point, before the
    first, between two and after the last. Points the firmware sends on its own (it reports its
    temperatures when its state changes) fill no poll's place but split no gap either."""
    if not times:
        return round((end - start) / interval_s)
    slack_s = 2  # whole seconds in the points' times, and each poll's own latency
    edges = [start, *times, end]
    return sum(
        max(0, int((later - earlier - slack_s) // interval_s))
        for earlier, later in itertools.pairwise(edges)
    )


def report(
    tracked: dict[int, Tracked],
    points: dict[str, list[int]],
    measured_s: float,
    start: float,
    end: float,
    interval_s: int,
) -> bool:
    total_cpu = sum(t.cpu_last - t.cpu_at_start for t in tracked.values())
    cpu_percent = total_cpu / measured_s * 100
    by_kind: dict[str, list[Tracked]] = defaultdict(list)
    for seen in tracked.values():
        by_kind[seen.kind].append(seen)

    print(f"\nover {measured_s:.0f} s ({measured_s / 60:.1f} min):")
    print(
        f"{'process kind':<16} {'count':>5} {'CPU %':>7} {'% each':>7} "
        f"{'RSS mean':>9} {'RSS max':>8}"
    )
    for kind in KINDS:
        group = by_kind.get(kind)
        if not group:
            continue
        alive = [seen for seen in group if seen.alive]
        cpu = sum(seen.cpu_last - seen.cpu_at_start for seen in group) / measured_s * 100
        rss = [seen.rss_mb for seen in alive] or [0.0]
        print(
            f"{kind:<16} {len(alive):>5} {cpu:>7.2f} {cpu / max(1, len(alive)):>7.3f} "
            f"{sum(rss) / len(rss):>7.1f}MB {max(rss):>6.1f}MB"
        )
    total_rss = sum(seen.rss_mb for seen in tracked.values() if seen.alive)
    total_pss = sum(pss_mb(pid) for pid, seen in tracked.items() if seen.alive)
    ended = sum(1 for seen in tracked.values() if not seen.alive)
    born = sum(1 for seen in tracked.values() if seen.born)
    print(
        f"{'total':<16} {sum(s.alive for s in tracked.values()):>5} {cpu_percent:>7.2f} "
        f"{'':>7} {'':>9} {'':>8}   RSS total {total_rss:.0f} MB (PSS {total_pss:.0f} MB)"
    )
    if ended or born:
        print(f"  processes that ended during the window: {ended}, that started: {born}")

    expected_each = (end - start) / interval_s  # the points' window, not the CPU's
    stored = sum(len(times) for times in points.values())
    expected = round(expected_each * len(points))
    missing = sum(missing_points(times, start, end, interval_s) for times in points.values())
    short = {name: len(times) for name, times in points.items() if len(times) < expected_each - 1}
    unpolled = sum(
        sum(1 for a, b in itertools.pairwise(times) if b - a < interval_s / 2)
        for times in points.values()
    )
    print(
        f"points: {stored} stored for {expected} expected "
        f"({len(points)} devices x {expected_each:.0f}); missing (gaps) {missing}; "
        f"within half an interval of the one before (sent by the firmware unasked) {unpolled}"
    )
    for name, count in sorted(short.items()):
        print(f"  {name}: {count} points, expected {expected_each:.0f} ± 1")

    cpu_ok = cpu_percent <= CPU_TARGET_PERCENT
    points_ok = missing == 0 and not short
    print(f"\n{'figure':<34} {'target':>16} {'measured':>16}")
    print(
        f"{'CPU of the stack (one core)':<34} {f'<= {CPU_TARGET_PERCENT:.0f} %':>16} "
        f"{f'{cpu_percent:.2f} %':>16}  {'ok' if cpu_ok else 'MISSED'}"
    )
    print(
        f"{'points stored / expected':<34} {f'{expected} (± {len(points)})':>16} "
        f"{stored:>16}  {'ok' if points_ok else 'MISSED'}"
    )
    print(f"{'points missing':<34} {0:>16} {missing:>16}")
    print(f"{'RSS of the stack':<34} {'(reported)':>16} {f'{total_rss:.0f} MB':>16}")
    print(f"{'PSS of the stack':<34} {'(reported)':>16} {f'{total_pss:.0f} MB':>16}")
    return cpu_ok and points_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="window (default 10)")
    parser.add_argument("--devices", type=int, default=20, help="simulated chambers (20)")
    parser.add_argument("--interval", type=int, default=30, help="log interval in s (30)")
    parser.add_argument("--keep", action="store_true", help="keep the home folder")
    parser.add_argument(
        "--integrations", action="store_true", help="also push, MQTT and alert rules"
    )
    parser.add_argument(
        "--set",
        type=setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a FERMENTRACK_* setting for the stack (repeatable)",
    )
    args = parser.parse_args()
    settings = dict(args.set)

    home = Path(tempfile.mkdtemp(prefix="fb-", dir="/tmp"))
    stack = BenchStack(home, settings)
    integrations = Integrations(home) if args.integrations else None
    print(f"home {home}, web port {stack.web_port}, settings {settings or 'default'}")
    try:
        began = time.monotonic()
        names = set_up(stack, args.devices, args.interval)
        extra_watchers: tuple[str, ...] = ()
        if integrations is not None:
            integrations.configure(stack)
            extra_watchers = ("push", "mqtt", "alerts")
        wait_until_running(stack, names, extra_watchers)
        print(f"all {len(names)} chambers running after {time.monotonic() - began:.0f} s")
        time.sleep(SETTLE_S)
        window_s = args.minutes * 60
        print(f"measuring over {window_s:.0f} s ...")
        tracked, start, end, measured_s = measure(stack, window_s)
        time.sleep(min(args.interval, 15))  # points of the window's last moments, in flight
        points = {name: stack.point_times(name, start, end) for name in names}
        ok = report(tracked, points, measured_s, start, end, args.interval)
        if integrations is not None:
            integrations.report(start, end)
        return 0 if ok else 1
    finally:
        if integrations is not None:
            integrations.stop()
        subprocess.run(
            [*FERMENTRACK, "stop"], env=stack.env, capture_output=True, timeout=300, check=False
        )
        if args.keep:
            print(f"kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
