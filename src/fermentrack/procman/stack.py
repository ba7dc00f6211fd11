"""`fermentrack start | stop | status | startifstopped`: circusd and everything it runs.

Whether circusd runs is told by its pid file and the process itself, never by whether it
answers in time: a circusd that is alive but slow is not stopped, and a second one is never
started (the start lock makes two `startifstopped` at once start one). Processes a killed
circusd left behind are found by the home folder in their environment and stopped before a new
circusd starts their replacements, so no two controllers ever drive one chamber.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from fermentrack.procman.circus_config import write_circus_config
from fermentrack.procman.circus_control import Circus, CircusRefused, CircusUnavailable
from fermentrack.procman.layout import (
    SPAWNER_WATCHER,
    STACK_MARKER,
    STATS_WATCHER,
    WEB_WATCHER,
    Layout,
)

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 60.0
LEFTOVER_GRACE_S = 10.0


class StackError(Exception):
    """The stack cannot do what was asked; the message says why, in one line."""


# -- is circusd running? -----------------------------------------------------------------------


def circusd_pid(layout: Layout) -> int | None:
    """The pid of this home's circusd when it is alive, whether or not it answers."""
    try:
        pid = int(layout.pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        command_line = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None  # no such process: a stale pid file
    if any(part.endswith(b"circusd") or b"circus.circusd" in part for part in command_line) and (
        str(layout.circus_ini).encode() in command_line
    ):
        return pid
    return None  # the pid was reused by another process


@contextlib.contextmanager
def start_lock(layout: Layout) -> Iterator[None]:
    """One start at a time for this home (cron and a person may run them together)."""
    layout.make_folders()
    with open(layout.start_lock, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# -- what a killed circusd left running -------------------------------------------------------


def stack_processes(layout: Layout) -> list[int]:
    """Processes circusd started for this home: the marker in their environment, or (for a
    circusd-stats started from an older circus.ini, by circus itself) its endpoint on their
    command line."""
    marker = f"{STACK_MARKER}={layout.home}".encode()
    endpoint = layout.endpoint("endpoint").encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0") or any(
                part == endpoint or part.endswith(b"=" + endpoint)
                for part in (entry / "cmdline").read_bytes().split(b"\0")
            ):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def leftover_processes(layout: Layout) -> list[int]:
    """Stack processes while no circusd runs for this home: what a killed circusd left."""
    return stack_processes(layout) if circusd_pid(layout) is None else []


def stop_leftovers(layout: Layout, say=print) -> None:
    """SIGTERM what a killed circusd left behind (controllers flush, firmware saves), then
    SIGKILL what is still there after a grace period."""
    pids = leftover_processes(layout)
    if not pids:
        return
    say(f"stopping {len(pids)} process(es) left by a circusd that died: {sorted(pids)}")
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + LEFTOVER_GRACE_S
    while time.monotonic() < deadline and leftover_processes(layout):
        time.sleep(0.2)
    for pid in leftover_processes(layout):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


# -- the verbs ---------------------------------------------------------------------------------


def prepare_web_app() -> None:
    """Migrations and static files, before the web app comes up (in a child: Django stays
    out of this process, which only starts things)."""
    done = subprocess.run(
        [sys.executable, "-m", "fermentrack.cli", "manage", "prepare_web"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise StackError(f"could not prepare the database and static files: {done.stderr.strip()}")


def start(layout: Layout, say=print) -> int:
    with start_lock(layout):
        pid = circusd_pid(layout)
        if pid is not None:
            say(f"circusd is already running (pid {pid})")
            return 0
        return _start_circusd(layout, say)


def start_if_stopped(layout: Layout, say=print) -> int:
    """Start circusd only when it is not running; quiet when it is (cron runs this often)."""
    with start_lock(layout):
        if circusd_pid(layout) is not None:
            return 0
        say("circusd was not running: starting it")
        return _start_circusd(layout, say)


def _start_circusd(layout: Layout, say) -> int:
    stop_leftovers(layout, say)
    write_circus_config(layout)
    prepare_web_app()
    layout.pidfile.unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "circus.circusd", "--daemon", str(layout.circus_ini)],
        cwd=layout.home,
        stdin=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != STACK_MARKER},
        check=True,
    )
    statuses = _wait_for_circusd(layout)
    for line in status_lines(statuses):
        say(line)
    return 0


def _wait_for_circusd(layout: Layout) -> dict[str, str]:
    circus = Circus(layout.endpoint("endpoint"), timeout=2.0)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            try:
                statuses = circus.statuses()
                if {WEB_WATCHER, SPAWNER_WATCHER} <= set(statuses):
                    return statuses
            except (CircusUnavailable, CircusRefused):
                pass
            if time.monotonic() > deadline:
                raise StackError(
                    f"circusd did not answer within {START_TIMEOUT_S:.0f} s: "
                    f"see {layout.circusd_log}"
                )
            time.sleep(0.2)
    finally:
        circus.close()


def stop(layout: Layout, say=print) -> int:
    with start_lock(layout):
        pid = circusd_pid(layout)
        if pid is None:
            say("circusd is not running")
            stop_leftovers(layout, say)
            return 0
        circus = Circus(layout.endpoint("endpoint"), timeout=STOP_TIMEOUT_S)
        try:
            circus.call("quit", waiting=True)
        except (CircusUnavailable, CircusRefused) as error:
            say(f"circusd did not quit when asked ({error}); terminating it")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        finally:
            circus.close()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while circusd_pid(layout) is not None:
            if time.monotonic() > deadline:
                raise StackError(f"circusd (pid {pid}) is still running after {STOP_TIMEOUT_S} s")
            time.sleep(0.1)
        stop_leftovers(layout, say)
        say("stopped")
        return 0


def status_lines(statuses: dict[str, str]) -> list[str]:
    """`<watcher>: <state>`, the stack's own watchers first, then the devices' by name."""
    own = [WEB_WATCHER, SPAWNER_WATCHER, STATS_WATCHER]
    names = [name for name in own if name in statuses]
    names += sorted(name for name in statuses if name not in own)
    return [f"{name}: {statuses[name]}" for name in names]


def status(layout: Layout, say=print) -> int:
    """0 when circusd runs (its watchers' states printed), 3 when it does not (as LSB says)."""
    pid = circusd_pid(layout)
    if pid is None:
        say("circusd: stopped")
        return 3
    circus = Circus(layout.endpoint("endpoint"), timeout=5.0)
    try:
        statuses = circus.statuses()
    except CircusUnavailable:
        say(f"circusd: running (pid {pid}) but not answering")
        return 1
    finally:
        circus.close()
    for line in status_lines(statuses):
        say(line)
    return 0
