"""How fast a year of log points goes in, and how fast (and how big) its graph comes out.

Run by hand: `.venv/bin/python bench/graph.py [--days 365]`. In a temporary FERMENTRACK_HOME
(SQLite) it fills one device with a point every 30 s through the ingest function, in batches
of 1000 as a controller sends them, and prints the ingest rate; then it asks the graph API for
the whole range at 1200 px and for the last day, through Django's test client (the server's
time, median of 5), and prints the time and bytes of each answer.

Targets: the year within 150 ms and 100 KB, and no slower than 3x the day.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time

DAY = 86400
STEP_S = 30
BATCH = 1000
WIDTH = 1200
REPEATS = 5
START = 1_704_067_200  # 2024-01-01 00:00 UTC


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365, help="days of log (default 365)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="fermentrack-bench-") as home:
        os.environ["FERMENTRACK_HOME"] = home
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fermentrack.web.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        return run(args.days)


def run(days: int) -> int:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from fermentrack.web.devices.models import Device

    get_user_model().objects.create_superuser("bench", "bench@example.com", "bench-password-1")
    device = Device.objects.create(name="bench-fridge", simulated=True, log_interval_s=STEP_S)
    end = START + days * DAY

    count, seconds = fill(device, START, end)
    print(f"ingest: {count} points in {seconds:.1f} s = {count / seconds:,.0f} points/s")

    client = Client()
    client.login(username="bench", password="bench-password-1")
    results = {}
    for label, start in (("whole range", START), ("last day", end - DAY)):
        url = f"/api/devices/{device.name}/graph?start={start}&end={end}&width={WIDTH}"
        timings, size, rows = measure(client, url)
        results[label] = statistics.median(timings)
        print(
            f"graph {label} ({(end - start) // DAY} d, {WIDTH} px): "
            f"median {results[label] * 1000:.1f} ms of {REPEATS} "
            f"(min {min(timings) * 1000:.1f}, max {max(timings) * 1000:.1f}), "
            f"{size:,} bytes, {rows} rows"
        )
    ratio = results["whole range"] / results["last day"]
    print(f"whole range / last day: {ratio:.2f}x")
    return 0


def fill(device, start: int, end: int) -> tuple[int, float]:
    from fermentrack.web.beers.ingest import store_points

    count = 0
    began = time.perf_counter()
    batch = []
    for ts in range(start, end, STEP_S):
        batch.append(reading(ts))
        if len(batch) == BATCH:
            count += store_points(device, batch).stored
            batch = []
            if count % 100_000 == 0:
                print(f"  {count:,} points ...", file=sys.stderr)
    if batch:
        count += store_points(device, batch).stored
    return count, time.perf_counter() - began


def reading(ts: int):
    """A plausible chamber: a beer drifting around its setting, a fridge cycling, a room."""
    from fermentrack.web.beers.models import ControlState, LogPoint

    hours = (ts - START) / 3600
    beer_set = 18.0 if (ts // (14 * DAY)) % 2 == 0 else 4.0
    cycle = math.sin(hours * 1.7)
    return LogPoint(
        ts=ts,
        beer_temp=round(beer_set + 0.3 * math.sin(hours / 5) + 0.05 * cycle, 2),
        beer_set=beer_set,
        fridge_temp=round(beer_set - 2 + 3 * cycle, 2),
        fridge_set=beer_set - 2,
        room_temp=round(20 + 4 * math.sin(hours * 2 * math.pi / 24), 2),
        state=ControlState.COOLING if cycle > 0.3 else ControlState.IDLE,
        temp_format="C",
    )


def measure(client, url: str) -> tuple[list[float], int, int]:
    import json

    timings = []
    size = rows = 0
    for _ in range(REPEATS):
        began = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise SystemExit(f"{url}: {response.status_code} {response.content[:200]!r}")
        size = len(response.content)
        rows = len(json.loads(response.content)["t"])
    return timings, size, rows


if __name__ == "__main__":
    sys.exit(main())
