"""Real processes for the controller's tests: our firmware, the web app and the controller.

Each runs as `python -m fermentrack.cli ...` in a short FERMENTRACK_HOME (unix socket paths must
stay under ~100 bytes), and is stopped by the test that started it. Nothing here imports Django:
the web app is reached over HTTP and through `fermentrack manage shell`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

from fermentrack.controller import client
from fermentrack.controller.client import ControllerProblem
from fermentrack.firmware.first_start import wiring_definitions

from . import web_app
from .web_app import free_port


@contextlib.contextmanager
def outside_the_web_app():
    """client.py as a process outside the web app uses it: controllers on this computer, reached
    on their unix sockets, without the devices app's lookup of controllers elsewhere (which
    Django installs in this test process too, and which reads the database)."""
    previous = client.use_remote_lookup(None)
    try:
        yield
    finally:
        client.use_remote_lookup(previous)


FERMENTRACK = [sys.executable, "-m", "fermentrack.cli"]
GRAPH_WINDOW_S = 4000  # the graph's widest answer: one row a second over this range


def environment(home: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FERMENTRACK_")}
    for name in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE"):  # always the home's SQLite
        env.pop(name, None)
    env["FERMENTRACK_HOME"] = str(home)
    env.update(extra)
    return env


def eventually(check: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    """The first truthy result of `check()` within `timeout` seconds, else AssertionError."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except (ControllerProblem, httpx.HTTPError, OSError) as error:
            last_error, result = error, None
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout} s (last error: {last_error})")


def _stop(process: subprocess.Popen, timeout: float = 20) -> int:
    """SIGTERM, then SIGKILL after `timeout`: twice circus' graceful timeout, so a disk slowed
    by a busy machine (an fsync of the outbox under way) is not mistaken for a hung process."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


class Firmware:
    """`fermentrack firmware` on a fixed TCP port or a pty link, so a restart is found again."""

    def __init__(
        self,
        home: Path,
        name: str,
        *,
        dialect: str = "esp",
        pty: bool = False,
        speed: int = 60,
        extra: Sequence[str] = (),
    ) -> None:
        """`extra`: more options, such as ("--tiltbridge", url, "--tilt-colour", "Purple")."""
        self.home, self.name, self.dialect, self.speed = home, name, dialect, speed
        self.extra = list(extra)
        self.pty_path = home / f"tty-{name}" if pty else None
        self.port = None if pty else free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        if self.pty_path is not None:
            return f"serial://{self.pty_path}"
        return f"tcp://127.0.0.1:{self.port}"

    def start(self) -> Firmware:
        where = (
            ["--pty", str(self.pty_path)] if self.pty_path else ["--tcp", f"127.0.0.1:{self.port}"]
        )
        self.process = subprocess.Popen(
            [
                *FERMENTRACK,
                "firmware",
                "--eeprom",
                str(self.home / "firmware" / self.name),
                *where,
                "--dialect",
                self.dialect,
                "--speed",
                str(self.speed),
                *self.extra,
            ],
            env=environment(self.home),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()
        assert "listening on" in line, f"the firmware did not start: {line!r}"
        return self

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


class WebApp(web_app.WebApp):
    """The web app of web_app.py, with what these tests read and write through it: devices
    with a link and an interval, profiles, the graph API, the dashboard open to anyone."""

    def start(self) -> WebApp:
        super().start()
        eventually(
            lambda: httpx.get(f"{self.url}/api/openapi.json", timeout=2).status_code == 200,
            60,
            "the web app answers",
        )
        return self

    def stop(self) -> None:
        self.kill()

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [*FERMENTRACK, *args],
            env=environment(self.home),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"fermentrack {args[0]} failed: {done.stderr}"
        return done.stdout

    def manage_shell(self, code: str) -> str:
        return self.run("manage", "shell", "-c", code)

    def add_device(self, name: str, link: str = "tcp://127.0.0.1:9", *, interval: int = 10) -> str:
        """Add a device logging every `interval` s from the firmware at `link`; its token."""
        return self.run("device", "add", name, "--link", link, "--interval", str(interval)).strip()

    def open_dashboard(self) -> None:
        self.manage_shell(
            "from fermentrack.web.brewery.models import BrewerySettings\n"
            "s = BrewerySettings.load(); s.dashboard_requires_login = False; s.save()"
        )

    def start_profile(self, device: str, points: list[tuple[int, float]]) -> int:
        """A new profile with `points`, started on `device` now; its id."""
        return int(
            self.manage_shell(
                "from fermentrack.web.profiles.models import FermentationProfile\n"
                "from fermentrack.web.devices.models import Device\n"
                f"p = FermentationProfile.objects.create(name='test {device}', temp_format='C')\n"
                f"p.replace_points({points!r})\n"
                f"p.start_on(Device.objects.get(name={device!r}))\n"
                "print(p.pk)"
            ).split()[-1]  # the shell says how many objects it imported first
        )

    def start_profile_with_holds(
        self, device: str, points: list[tuple[int, float]], holds: dict[int, dict]
    ) -> int:
        """A new profile with `points` and `holds` (offset -> Hold fields), started on `device`
        now; its id."""
        return int(
            self.manage_shell(
                "from fermentrack.gravity.holds import Hold\n"
                "from fermentrack.web.profiles.models import FermentationProfile\n"
                "from fermentrack.web.devices.models import Device\n"
                f"p = FermentationProfile.objects.create(name='held {device}', temp_format='C')\n"
                f"holds = {{o: Hold(**fields) for o, fields in {holds!r}.items()}}\n"
                "assert not [h.problems() for h in holds.values() if h.problems()]\n"
                f"p.replace_points({points!r}, holds)\n"
                f"p.start_on(Device.objects.get(name={device!r}))\n"
                "print(p.pk)"
            ).split()[-1]
        )

    def add_tiltbridge_tilt(self, device: str, colour: str, bridge: str) -> None:
        """A Tilt heard through the TiltBridge `bridge`, floating in `device`'s beer; and an
        admin, so the site takes the bridge's posts (it sends every page to its first-run
        setup until one exists)."""
        self.manage_shell(
            "from django.contrib.auth import get_user_model\n"
            "from fermentrack.web.devices.models import Device\n"
            "from fermentrack.web.gravity.models import GravitySensor\n"
            "User = get_user_model()\n"
            "User.objects.filter(username='admin').exists() or "
            "User.objects.create_superuser('admin', 'a@example.com', 'hop-cone-fermenter-42')\n"
            f"GravitySensor.objects.create(name={colour + ' Tilt'!r}, kind='tiltbridge', "
            f"colour={colour!r}, bridge_mdns_id={bridge!r}, "
            f"device=Device.objects.get(name={device!r}))"
        )

    def profile_progress(self, device: str) -> dict:
        """The progress of the profile's holds the web app keeps for `device`."""
        answer = self.manage_shell(
            "import json\n"
            "from fermentrack.web.devices.models import Device\n"
            f"print(json.dumps(Device.objects.get(name={device!r}).profile_progress))"
        )
        return json.loads(answer.strip().splitlines()[-1])

    def active_profile(self, device: str) -> int | None:
        """The id of the profile the web app shows running on `device`."""
        answer = self.manage_shell(
            "from fermentrack.web.devices.models import Device\n"
            f"print(Device.objects.get(name={device!r}).active_profile_id)"
        ).split()[-1]
        return None if answer == "None" else int(answer)

    def graph(self, device: str, start: int, end: int) -> dict:
        answer = httpx.get(
            f"{self.url}/api/devices/{device}/graph",
            params={"start": start, "end": end, "width": max(10, min(4000, end - start))},
            timeout=10,
        )
        answer.raise_for_status()
        return answer.json()

    def point_times(self, device: str, start: int, end: int) -> list[int]:
        """The second of every stored point in [start, end): the graph at one row a second."""
        times: list[int] = []
        for window in range(start, end, GRAPH_WINDOW_S):
            graph = self.graph(device, window, min(end, window + GRAPH_WINDOW_S))
            assert graph["bucket_s"] == 1
            series = [
                key
                for key in graph
                if key not in ("t", "annotations") and isinstance(graph[key], list)
            ]
            for row, ts in enumerate(graph["t"]):
                if any(graph[key][row] is not None for key in series):
                    times.append(ts)  # rows of nulls only mark gaps
        return times

    def annotations(self, device: str, start: int, end: int) -> list[str]:
        return [item["text"] for item in self.graph(device, start, end)["annotations"]]


class ControllerProcess:
    """`fermentrack -v controller NAME`; its log (with every point it logged) in a file."""

    def __init__(
        self,
        home: Path,
        name: str,
        token: str,
        api_url: str,
        *,
        link: str | None = None,
        args: tuple[str, ...] = (),
        **extra_env: str,
    ) -> None:
        self.home, self.name, self.args = home, name, args
        self.env = environment(
            home,
            FERMENTRACK_DEVICE_TOKEN=token,
            FERMENTRACK_API_URL=api_url,
            FERMENTRACK_DEVICE_STARTUP_DELAY_S="0",
            **extra_env,
        )
        if link is not None:
            self.env["FERMENTRACK_DEVICE_LINK"] = link
        self.log_path = home / f"controller-{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> ControllerProcess:
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                [*FERMENTRACK, "-v", "controller", self.name, *self.args],
                env=self.env,
                stdout=log_file,
                stderr=log_file,
            )
        return self

    def stop(self) -> int:
        if self.process is None:
            return 0
        code = _stop(self.process)
        if code != 0:  # say why in the test's output: the log's end
            print(f"controller of {self.name} exited {code}; its log ends:\n{self.log()[-4000:]}")
        return code

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def logged_point_times(self) -> list[int]:
        """Every point the controller put in its outbox, by the log line it writes after."""
        return [int(ts) for ts in re.findall(r"logged point ts=(\d+)", self.log())]

    def status(self) -> dict:
        return client.status(self.name)

    def wait_connected(self, timeout: float = 20) -> dict:
        return eventually(
            lambda: (status := self.status())["connected"] and status["settings"] and status,
            timeout,
            f"the controller of {self.name} is connected to its firmware",
        )


def chamber_definitions() -> list[dict[str, Any]]:
    """The simulated board's probes and relays as `U{...}` definitions (brewpi-protocol §7.2)."""
    return wiring_definitions()


def wire_chamber(name: str) -> None:
    """Install the simulated board's probes and relays through the controller's socket."""
    for definition in chamber_definitions():
        answer = client.apply_device(name, definition)
        assert answer["errors"] == [], answer


def dump(*parts: Any) -> str:
    """Context for an assertion message."""
    return "\n".join(part if isinstance(part, str) else json.dumps(part) for part in parts)
