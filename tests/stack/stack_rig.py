"""A whole Fermentrack stack in a temporary FERMENTRACK_HOME, started with the real commands:
circusd, gunicorn, the spawner, controllers and firmware processes, as a brewery runs them."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from fermentrack.procman.circus_control import Circus
from fermentrack.procman.layout import Layout

FERMENTRACK = [sys.executable, "-m", "fermentrack.cli"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def eventually(check: Callable[[], Any], timeout: float, what: str, every: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception as error:  # the thing checked may not be up yet
            result, last_error = None, error
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout} s (last error: {last_error!r})")


class Stack:
    """One home, its stack driven through the `fermentrack` command."""

    def __init__(self, home: Path, **environment: str) -> None:
        self.home = home
        self.web_port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("FERMENTRACK_")},
            "FERMENTRACK_HOME": str(home),
            "FERMENTRACK_WEB_PORT": str(self.web_port),
            "FERMENTRACK_SPAWNER_INTERVAL_S": "1",
            **environment,
        }
        self.env.pop("DATABASE_URL", None)  # the stack tests run on the embedded SQLite
        self.admin_password: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def log(self) -> Path:
        return self.home / "log"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    def run(self, *args: str, timeout: float = 120, check: bool = True):
        done = subprocess.run(
            [*FERMENTRACK, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"fermentrack {' '.join(args)} exited {done.returncode}: {done.stderr}{done.stdout}"
            )
        return done

    def quickstart(self) -> str:
        output = self.run("quickstart").stdout
        found = re.search(r"password '([^']+)'", output)
        if found:
            self.admin_password = found.group(1)
        return output

    def stop(self) -> None:
        """`fermentrack stop`; then anything of this stack still running is killed and named in
        a warning, so a stop that missed something never leaves a stack behind for the tests
        that follow (whether stop ends everything is test_stack's own test)."""
        done = self.run("stop", check=False, timeout=180)
        left = sorted(set(self.circusd_processes()) | set(self.watcher_pids("")))
        if not left:
            return
        commands = []
        for pid in left:
            with contextlib.suppress(OSError):
                commands.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" "))
                os.kill(pid, signal.SIGKILL)
        warnings.warn(
            f"fermentrack stop (exit {done.returncode}: {done.stdout.strip()} "
            f"{done.stderr.strip()}) left {len(left)} processes of {self.home} running (killed): "
            + "; ".join(c.decode(errors="replace")[:120] for c in commands),
            stacklevel=2,
        )

    # -- circus ------------------------------------------------------------------------------

    def statuses(self) -> dict[str, str]:
        done = self.run("status", check=False)
        lines = [line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line]
        return {name: state for name, state in lines}

    def wait_active(self, *watchers: str, timeout: float = 60) -> dict[str, str]:
        return eventually(
            lambda: (
                all(self.statuses().get(name) == "active" for name in watchers) and self.statuses()
            ),
            timeout,
            f"{', '.join(watchers)} active",
        )

    def circusd_pid(self) -> int:
        return int((self.run_dir / "circusd.pid").read_text())

    def watcher_pids(self, pattern: str) -> list[int]:
        """Pids of this stack's processes whose command line holds `pattern`."""
        pids = []
        marker = f"FERMENTRACK_STACK={self.home}".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if marker not in (entry / "environ").read_bytes().split(b"\0"):
                    continue
                command_line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if pattern in command_line:
                pids.append(int(entry.name))
        return pids

    def circusd_processes(self) -> list[int]:
        """Every circusd running this home's circus.ini (one, when all is well)."""
        found = []
        ini = str(self.home / "circus.ini").encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                parts = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"circus.circusd" in parts and ini in parts:
                found.append(int(entry.name))
        # A circusd forking a watcher's process shows circusd's command line until it execs:
        # count only circusds whose parent is not one.
        return [pid for pid in found if parent_pid(pid) not in found]

    def processes_of(self, watcher: str) -> list[int]:
        """The pids circusd itself runs for `watcher` (for the web app: gunicorn's master),
        from circus' `list`, living ones only (circus lists a killed one until it reaps it)."""
        circus = Circus(Layout(self.home).endpoint("endpoint"), timeout=5.0)
        try:
            pids = circus.call("list", name=watcher).get("pids", [])
        finally:
            circus.close()
        return sorted(pid for pid in map(int, pids) if is_alive(pid))

    def kill_watcher(self, watcher: str) -> int:
        """SIGKILL the one process circusd runs for `watcher`; its pid."""
        (pid,) = self.processes_of(watcher)
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_replaced(self, watcher: str, old_pid: int, timeout: float = 60) -> int:
        """The pid of the process circusd started for `watcher` in place of `old_pid`."""
        (pid,) = eventually(
            lambda: [pid for pid in self.processes_of(watcher) if pid != old_pid],
            timeout,
            f"{watcher} restarted by circusd",
            every=0.1,
        )
        return pid

    # -- the database (read-only) --------------------------------------------------------------

    def query(self, sql: str, *parameters: object) -> list[tuple]:
        database = sqlite3.connect(f"file:{self.home / 'fermentrack.sqlite3'}?mode=ro", uri=True)
        try:
            return database.execute(sql, parameters).fetchall()
        finally:
            database.close()

    def point_times(self, device: str) -> list[int]:
        return [
            ts
            for (ts,) in self.query(
                "SELECT p.ts FROM beers_logpoint p JOIN devices_device d ON d.id = p.device_id "
                "WHERE d.name = ? ORDER BY p.ts",
                device,
            )
        ]

    def device_status(self, device: str) -> dict:
        import json

        rows = self.query("SELECT status FROM devices_device WHERE name = ?", device)
        return json.loads(rows[0][0]) if rows else {}

    # -- the web app as a person uses it ----------------------------------------------------------

    def browser(self) -> httpx.Client:
        """An HTTP client logged in as the admin quickstart created."""
        assert self.admin_password, "quickstart() first"
        client = httpx.Client(base_url=self.url, timeout=30)
        page = client.get("/login/")
        client.post(
            "/login/",
            data={
                "username": "admin",
                "password": self.admin_password,
                "csrfmiddlewaretoken": csrf_token(page.text),
            },
            headers={"Referer": f"{self.url}/login/"},
        )
        assert "sessionid" in client.cookies, "the admin could not log in"
        return client


def is_alive(pid: int) -> bool:
    """A process that runs (a zombie waiting to be reaped does not)."""
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return False


def parent_pid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def post_form(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    page = client.get(path)
    return client.post(
        path,
        data={**data, "csrfmiddlewaretoken": csrf_token(page.text)},
        headers={"Referer": f"{client.base_url}{path}"},
    )
