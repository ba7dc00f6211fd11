"""Faults in the process stack, done one after another to one running brewery: kill -9 the web
app, the spawner, a controller, a firmware process and circusd itself (then `startifstopped`).

Each comes back, and what the brewer lost is counted: how long the process was gone, and the log
points missing from the chamber's graph (a point is missing where two stored ones are two log
intervals or more apart). The figures are printed as the faults happen and once more at the end
(`pytest -s` shows them).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import httpx
import pytest

from .stack_rig import Stack, csrf_token, eventually, is_alive, post_form

DEVICE = "chamber-1"
CONTROLLER = f"dev-{DEVICE}"
FIRMWARE = f"fw-{DEVICE}"
WATCHERS = ("Fermentrack", "brewpi-spawner", "circusd-stats", CONTROLLER, FIRMWARE)
INTERVAL_S = 10  # the chamber's log interval, set through its edit page
BEER_SET = 18.0  # beer constant, set on the chamber's page
# The controller polls on a timer, so stored points are an interval apart give or take a second
# or two on a busy machine; a missing point makes a gap of two intervals.
STEADY_GAP_S = INTERVAL_S * 1.5


@dataclass
class Fault:
    """One kill, and how long what was killed was gone."""

    name: str
    killed_at: float  # wall clock, as the points' timestamps
    outage_s: float  # until what was killed was back and doing its work again
    stopped_logging: bool  # the chamber's controller or firmware was among what stopped
    logging_stopped_at: float | None = None  # when they stopped, if not at `killed_at`

    @property
    def outage_began_at(self) -> float:
        return self.killed_at if self.logging_stopped_at is None else self.logging_stopped_at

    @property
    def allowed_gap_s(self) -> float:
        """The widest gap between stored points this fault may explain: the one in flight
        when the controller or firmware stopped, plus its outage; nothing otherwise (the
        controller kept every point in its outbox)."""
        if self.stopped_logging:
            return 2 * INTERVAL_S + self.outage_s
        return STEADY_GAP_S


class Brewery:
    """The one stack the faults are done to, and the record of what they cost."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.faults: list[Fault] = []
        self.record: list[str] = []
        self.logging_since = 0  # the first point at the 10 s interval

    def note(self, line: str) -> None:
        print(f"[fault] {line}", flush=True)
        self.record.append(line)

    # -- what is running ------------------------------------------------------------------------

    def steady(self) -> dict[str, int]:
        """Wait until every watcher runs and the chamber reports itself connected; the pid of
        each watcher's process."""
        self.stack.wait_active(*WATCHERS)
        self.wait_connected(since=0)
        return {name: self.stack.processes_of(name)[0] for name in WATCHERS}

    def wait_connected(self, since: float, timeout: float = 60) -> float:
        """The wall time when the chamber's controller first reported, at or after `since`,
        that it is connected to its firmware."""

        def connected() -> bool:
            status = self.stack.device_status(DEVICE)
            return bool(status.get("connected")) and status.get("ts", 0) >= int(since)

        eventually(connected, timeout, f"{DEVICE} connected (status reported after {since:.0f})")
        return time.time()

    def assert_controlled(self, since: float) -> None:
        """The chamber is held at the beer setting: its status says so, every point stored since
        `since` says so, and its probes' readings are logged again."""
        status = self.stack.device_status(DEVICE)
        assert (status.get("mode"), status.get("beer_set")) == ("beer_constant", BEER_SET)
        readings = self.readings(since)
        assert readings and {beer_set for _, _, _, beer_set in readings} == {BEER_SET}, readings
        eventually(
            lambda: [
                ts
                for ts, beer, fridge, _ in self.readings(since)
                if not (not_a_reading(beer) or not_a_reading(fridge))
            ],
            3 * INTERVAL_S,
            f"a point with the beer and fridge readings of {DEVICE}",
        )

    def readings(self, since: float) -> list[tuple]:
        """(ts, beer_temp, fridge_temp, beer_set) of the points stored since `since`."""
        return self.stack.query(
            "SELECT p.ts, p.beer_temp, p.fridge_temp, p.beer_set FROM beers_logpoint p "
            "JOIN devices_device d ON d.id = p.device_id WHERE d.name = ? AND p.ts >= ? "
            "ORDER BY p.ts",
            DEVICE,
            int(max(since, self.logging_since)),
        )

    def device_processes(self) -> dict[str, list[int]]:
        """Every controller and firmware process of the chamber, whoever runs them."""
        return {
            "controller": self.stack.watcher_pids(f"fermentrack.cli controller {DEVICE}"),
            "firmware": [
                pid
                for pid in self.stack.watcher_pids("fermentrack.cli firmware")
                if pid in self.stack.watcher_pids(f"{FIRMWARE}.tty")
            ],
        }

    def assert_one_of_each(self) -> None:
        """One circusd, one controller and one firmware for the chamber, one gunicorn master
        with its workers: nothing a fault left behind, nothing started twice."""
        assert len(self.stack.circusd_processes()) == 1
        assert {kind: len(pids) for kind, pids in self.device_processes().items()} == {
            "controller": 1,
            "firmware": 1,
        }
        (master,) = self.stack.processes_of("Fermentrack")
        eventually(
            lambda: set(self.stack.watcher_pids("gunicorn")) == {master, *children(master)},
            30,
            "no gunicorn process but the master circusd runs and its workers",
        )

    # -- the chamber's points -------------------------------------------------------------------

    def points(self, since: float = 0) -> list[int]:
        since = max(since, self.logging_since)
        return [ts for ts in self.stack.point_times(DEVICE) if ts >= since]

    def when_a_point_is_due(self) -> None:
        """Sleep until the chamber's next point is due, an interval after the last one stored:
        a kill then catches it in flight (polled, or about to be; not yet sent, or being)."""
        time.sleep(max(0.0, self.points()[-1] + INTERVAL_S - time.time()))

    def wait_points_after(self, moment: float, count: int = 2, timeout: float = 90) -> list[int]:
        """Wait until `count` points stamped after `moment` are stored: logging goes on."""
        return eventually(
            lambda: len([ts for ts in self.points(moment) if ts > moment]) >= count,
            timeout,
            f"{count} points of {DEVICE} after {moment:.0f}",
        )

    def gaps_around(self, fault: Fault) -> list[int]:
        """The gaps between stored points from a little before the fault until now."""
        times = self.points(fault.killed_at - 2 * INTERVAL_S)
        return [later - earlier for earlier, later in pairwise(times)]

    def count_losses(self, fault: Fault) -> None:
        """Note and check the points this fault cost: no gap wider than it may explain, no
        point stored twice."""
        gaps = self.gaps_around(fault)
        lost = sum(points_missing(gap) for gap in gaps)
        self.faults.append(fault)
        self.note(
            f"{fault.name}: back after {fault.outage_s:.1f} s; widest gap between points "
            f"{max(gaps)} s (allowed {fault.allowed_gap_s:.0f} s); points lost: {lost}"
        )
        assert max(gaps) <= fault.allowed_gap_s, gaps
        times = self.points()
        assert len(times) == len(set(times)), "a point stored twice"
        self.assert_controlled(since=fault.killed_at)


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def not_a_reading(temperature: float | None) -> bool:
    """No reading, or ESP firmware's way of saying so: 0 (brewpi-protocol §10). The simulated
    chamber is never at exactly 0 °C."""
    return temperature in (None, 0.0)


def points_missing(gap: int) -> int:
    """Points a gap between two stored ones stands for: none while it is about one interval."""
    return max(0, round(gap / INTERVAL_S) - 1)


@pytest.fixture(scope="module")
def brewery():
    """The quickstart brewery with its chamber logging every 10 s, shared by the faults below
    (each waits for the stack to be steady first); stopped, with everything it ran, at the end."""
    home = Path(tempfile.mkdtemp(prefix="ff-", dir="/tmp"))
    stack = Stack(home)
    brewery = Brewery(stack)
    requests_log = logging.getLogger("httpx")
    requests_level = requests_log.level
    requests_log.setLevel(logging.WARNING)  # the pages asked during a restart, one line each
    try:
        stack.quickstart()
        stack.wait_active(CONTROLLER, FIRMWARE)
        brewery.wait_connected(since=0)
        # The spawner's firmware fits a new simulated chamber: its probes read at once.
        eventually(
            lambda: stack.query(
                "SELECT COUNT(*) FROM beers_logpoint p JOIN devices_device d "
                "ON d.id = p.device_id WHERE d.name = ? AND p.beer_temp IS NOT NULL",
                DEVICE,
            )[0][0],
            60,
            "a point with the fitted beer probe's reading",
        )
        browser = stack.browser()
        detail = browser.get(f"/devices/{DEVICE}/")
        held = browser.post(
            f"/devices/{DEVICE}/mode/",
            data={
                "mode": "beer_constant",
                "temperature": str(BEER_SET),
                "csrfmiddlewaretoken": csrf_token(detail.text),
            },
            headers={"Referer": f"{stack.url}/devices/{DEVICE}/"},
        )
        assert held.status_code == 302, held.text[:500]
        edited = post_form(
            browser,
            f"/devices/{DEVICE}/edit/",
            {
                "name": DEVICE,
                "connection": "simulated",
                "dialect": "esp",
                "log_interval_s": str(INTERVAL_S),
                "temp_format": "C",
                "active": "on",
            },
        )
        assert edited.status_code == 302, edited.text[:500]
        edited_at = time.time()

        def logging_every_interval() -> int | None:
            times = [ts for ts in stack.point_times(DEVICE) if ts > edited_at]
            for earlier, later in pairwise(times):
                if later - earlier <= STEADY_GAP_S:
                    return earlier
            return None

        brewery.logging_since = eventually(logging_every_interval, 90, "points 10 s apart")
        brewery.assert_controlled(since=brewery.logging_since)
        brewery.note(f"{DEVICE} logging every {INTERVAL_S} s from {brewery.logging_since}")
        yield brewery
    finally:
        print("\n[fault] what the brewer lost, fault by fault:", flush=True)
        for line in brewery.record:
            print(f"[fault]   {line}", flush=True)
        stack.stop()
        shutil.rmtree(home, ignore_errors=True)
        requests_log.setLevel(requests_level)


def test_the_web_app_killed_is_restarted_on_its_bound_port_and_the_chamber_never_notices(
    brewery,
):
    stack = brewery.stack
    before = brewery.steady()
    browser = stack.browser()

    brewery.when_a_point_is_due()
    killed_at = time.time()
    master = stack.kill_watcher("Fermentrack")
    refused, slowest = 0, 0.0
    while True:
        asked_at = time.monotonic()
        try:
            # A new connection each time: a kept one stays with an old worker while it drains.
            page = browser.get("/", headers={"Connection": "close"})
            answered = page.status_code == 200  # still logged in: no redirect to the login
        except httpx.ConnectError:
            refused, answered = refused + 1, False
        slowest = max(slowest, time.monotonic() - asked_at)
        new_masters = [pid for pid in stack.processes_of("Fermentrack") if pid != master]
        if answered and new_masters:
            (new_master,) = new_masters
            served_by = set(stack.watcher_pids("gunicorn"))
            if children(new_master) and served_by == {new_master, *children(new_master)}:
                break  # only the new gunicorn is left to answer
        assert time.time() - killed_at < 60, "the web app was not back within 60 s"
        time.sleep(0.2)
    outage_s = time.time() - killed_at
    brewery.note(
        f"web app: pages answered again by a new gunicorn after {outage_s:.1f} s; "
        f"connections refused meanwhile: {refused}; slowest page: {slowest:.1f} s"
    )

    assert refused == 0  # circusd kept the port bound
    brewery.wait_points_after(killed_at)
    brewery.wait_connected(since=killed_at + outage_s)
    assert stack.processes_of(FIRMWARE) == [before[FIRMWARE]]
    assert stack.processes_of(CONTROLLER) == [before[CONTROLLER]]
    brewery.count_losses(Fault("web app", killed_at, outage_s, stopped_logging=False))
    brewery.assert_one_of_each()


def test_the_spawner_killed_comes_back_and_leaves_the_device_watchers_running(brewery):
    stack = brewery.stack
    before = brewery.steady()

    log = stack.log / "fermentrack-brewpi-spawner.log"
    starts = log.read_text().count("a round every")
    killed_at = time.time()
    spawner = stack.kill_watcher("brewpi-spawner")
    new_spawner = stack.wait_replaced("brewpi-spawner", spawner)
    outage_s = time.time() - killed_at
    eventually(lambda: log.read_text().count("a round every") > starts, 30, "its start logged")
    time.sleep(5)  # a few of its rounds, every second

    after_restart = log.read_text().rsplit("a round every", 1)[1]
    assert "added" not in after_restart and "removed" not in after_restart
    assert is_alive(new_spawner)
    assert {name: stack.processes_of(name) for name in (CONTROLLER, FIRMWARE)} == {
        CONTROLLER: [before[CONTROLLER]],
        FIRMWARE: [before[FIRMWARE]],
    }
    brewery.wait_points_after(killed_at)
    brewery.wait_connected(since=killed_at + outage_s)
    brewery.count_losses(Fault("spawner", killed_at, outage_s, stopped_logging=False))
    brewery.assert_one_of_each()


def test_a_controller_killed_comes_back_and_its_points_keep_arriving(brewery):
    stack = brewery.stack
    before = brewery.steady()

    brewery.when_a_point_is_due()
    killed_at = time.time()
    stack.kill_watcher(CONTROLLER)
    stack.wait_replaced(CONTROLLER, before[CONTROLLER])
    process_back_s = time.time() - killed_at
    connected_at = brewery.wait_connected(since=killed_at)
    outage_s = connected_at - killed_at
    brewery.note(
        f"controller: a new process after {process_back_s:.1f} s, "
        f"connected to the firmware after {outage_s:.1f} s"
    )

    brewery.wait_points_after(killed_at)
    assert stack.processes_of(FIRMWARE) == [before[FIRMWARE]]  # the chamber stayed controlled
    brewery.count_losses(Fault("controller", killed_at, outage_s, stopped_logging=True))
    brewery.assert_one_of_each()


def test_a_firmware_killed_comes_back_its_controller_reconnects_and_the_gap_is_annotated(
    brewery,
):
    stack = brewery.stack
    before = brewery.steady()

    brewery.when_a_point_is_due()
    killed_at = time.time()
    stack.kill_watcher(FIRMWARE)
    stack.wait_replaced(FIRMWARE, before[FIRMWARE])
    process_back_s = time.time() - killed_at

    def annotations() -> list[str]:
        return [
            text
            for (text,) in stack.query(
                "SELECT a.text FROM beers_annotation a JOIN devices_device d ON d.id = a.device_id "
                "WHERE d.name = ? AND a.ts >= ? ORDER BY a.ts",
                DEVICE,
                int(killed_at),
            )
        ]

    back = eventually(
        lambda: [text for text in annotations() if text.startswith("Firmware link back after")],
        90,
        "the controller's annotation that the firmware link is back",
    )
    outage_s = time.time() - killed_at
    assert any(text.startswith("Lost the firmware link") for text in annotations())
    brewery.wait_points_after(killed_at)
    brewery.note(
        f"firmware: a new process after {process_back_s:.1f} s; the graph says {back[0]!r}"
    )

    assert stack.processes_of(CONTROLLER) == [before[CONTROLLER]]  # it reconnected by itself
    brewery.wait_connected(since=killed_at + outage_s)
    brewery.count_losses(Fault("firmware", killed_at, outage_s, stopped_logging=True))
    brewery.assert_one_of_each()


def test_circusd_killed_leaves_the_chamber_logging_and_startifstopped_brings_back_one_stack(
    brewery,
):
    stack = brewery.stack
    before = brewery.steady()
    old_processes = set(stack.watcher_pids(""))

    killed_at = time.time()
    os.kill(stack.circusd_pid(), signal.SIGKILL)
    # Unsupervised, everything it ran goes on: pages answer, the chamber logs.
    eventually(lambda: not stack.circusd_processes(), 10, "circusd gone")
    assert httpx.get(f"{stack.url}/login/", timeout=30).status_code == 200
    brewery.wait_points_after(killed_at, count=1)
    assert {before[name] for name in (CONTROLLER, FIRMWARE)} <= set(stack.watcher_pids(""))

    brewery.when_a_point_is_due()  # its controller and firmware are stopped right away
    restart_at = time.time()
    done = stack.run("startifstopped")
    took_s = time.time() - restart_at
    assert "starting it" in done.stdout and "left by a circusd that died" in done.stdout
    statuses = stack.wait_active(*WATCHERS)
    connected_at = brewery.wait_connected(since=restart_at)
    outage_s = connected_at - restart_at
    brewery.note(
        f"circusd: startifstopped {restart_at - killed_at:.0f} s after the kill took "
        f"{took_s:.1f} s; the chamber connected again {outage_s:.1f} s after it began"
    )

    assert sorted(statuses) == sorted(WATCHERS)
    assert not old_processes & set(stack.watcher_pids("")), "a process of the old stack is left"
    brewery.wait_points_after(restart_at)
    fault = Fault("circusd", killed_at, outage_s, stopped_logging=True)
    fault.logging_stopped_at = restart_at  # `startifstopped` stopped what circusd left
    brewery.count_losses(fault)
    brewery.assert_one_of_each()


def test_over_the_whole_run_no_point_was_lost_beyond_those_in_flight_and_none_stored_twice(
    brewery,
):
    times = brewery.points()
    assert len(times) == len(set(times))
    widest = []
    for earlier, later in pairwise(times):
        explained_by = [
            fault
            for fault in brewery.faults
            if earlier - INTERVAL_S <= fault.outage_began_at <= later + INTERVAL_S
        ]
        allowed = max([STEADY_GAP_S, *(fault.allowed_gap_s for fault in explained_by)])
        widest.append((later - earlier, allowed, earlier))
    lost = sum(points_missing(gap) for gap, _, _ in widest)
    brewery.note(
        f"whole run: {len(times)} points over {times[-1] - times[0]} s, "
        f"{len(brewery.faults)} faults, points lost: {lost}"
    )
    assert [(gap, at) for gap, allowed, at in widest if gap > allowed] == []


def test_no_point_of_the_whole_run_carries_a_probe_that_was_not_read(brewery):
    unread = [
        (ts, beer, fridge)
        for ts, beer, fridge, _ in brewery.readings(0)
        if not_a_reading(beer) or not_a_reading(fridge)
    ]
    brewery.note(f"whole run: points with a probe not read (stored as 0 °C): {len(unread)}")
    assert unread == []
