"""The spawner: keeps circus' device watchers in step with what the database asks for.

Each round compares the desired watchers (`dev-<name>` per active device, `fw-<name>` per
device whose firmware runs on this host) with circus' list: adds what is missing, removes what
is gone, replaces a watcher whose command or settings changed, and starts one found stopped.
One circus command at a time; "already running" answers are retried. Circus forgets watchers
added at run time when circusd restarts: the next round brings them back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fermentrack.procman.circus_config import watcher_environment
from fermentrack.procman.circus_control import Circus, CircusRefused, CircusUnavailable
from fermentrack.procman.layout import (
    FIRMWARE_PREFIX,
    Layout,
    file_stream,
    is_device_watcher,
)

log = logging.getLogger(__name__)

SPEC_VARIABLE = "FERMENTRACK_WATCHER_SPEC"  # the fingerprint of what a watcher was added with
GRACEFUL_TIMEOUT_S = 10


@dataclass(frozen=True)
class WatcherSpec:
    """A device watcher as the database wants it. `secrets` are made when it is added (a new
    controller token) and are not part of its fingerprint."""

    name: str
    cmd: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    make_secrets: Callable[[], dict[str, str]] | None = field(default=None, compare=False)

    def fingerprint(self) -> str:
        text = json.dumps([self.name, self.cmd, list(self.args), sorted(self.env.items())])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def circus_options(self, layout: Layout) -> dict:
        secrets = self.make_secrets() if self.make_secrets else {}
        env = watcher_environment(layout) | self.env | secrets
        env[SPEC_VARIABLE] = self.fingerprint()
        return {
            "env": env,
            "copy_env": True,
            "working_dir": str(layout.home),
            "graceful_timeout": GRACEFUL_TIMEOUT_S,
            "stdout_stream": file_stream(layout.watcher_log(self.name, "stdout")),
            "stderr_stream": file_stream(layout.watcher_log(self.name, "stderr")),
        }


class Spawner:
    def __init__(
        self,
        layout: Layout,
        circus: Circus,
        desired: Callable[[], list[WatcherSpec] | None],
    ) -> None:
        self.layout = layout
        self.circus = circus
        self.desired = desired
        self.added: dict[str, str] = {}  # watcher -> fingerprint, as this spawner added it

    def reconcile(self) -> list[str]:
        """One round; what was done, in words (empty when everything was in step). When the
        desired watchers cannot be known (None), nothing changes."""
        specs = self.desired()
        if specs is None:
            return []
        wanted = {spec.name: spec for spec in specs}
        statuses = {
            name: state for name, state in self.circus.statuses().items() if is_device_watcher(name)
        }
        done = []
        for name in sorted(set(statuses) - set(wanted)):
            self.circus.call_retrying("rm", name=name, waiting=True)
            self.added.pop(name, None)
            done.append(f"removed {name}")
        # Firmware first: its controller connects to it.
        order = sorted(wanted, key=lambda name: (not name.startswith(FIRMWARE_PREFIX), name))
        for name in order:
            spec = wanted[name]
            if name in statuses:
                running = self.added.get(name)
                if running is None:  # added before this spawner started: ask circus
                    running = self.circus.environment(name).get(SPEC_VARIABLE)
                    self.added[name] = running
                if running == spec.fingerprint():
                    if statuses[name] == "stopped":
                        self.circus.call_retrying("start", name=name, waiting=True)
                        done.append(f"started {name}")
                    continue
                self.circus.call_retrying("rm", name=name, waiting=True)
                done.append(f"removed {name} (its settings changed)")
            self.circus.call_retrying(
                "add",
                name=name,
                cmd=spec.cmd,
                args=list(spec.args),
                options=spec.circus_options(self.layout),
                start=True,
            )
            self.added[name] = spec.fingerprint()
            done.append(f"added {name}")
        return done

    def run(self, every_s: float, rounds: int | None = None) -> None:
        """Reconcile every `every_s` seconds, for ever (or `rounds` times); never gives up."""
        count = 0
        while rounds is None or count < rounds:
            count += 1
            try:
                for action in self.reconcile():
                    log.info("%s", action)
            except (CircusUnavailable, CircusRefused) as error:
                log.warning("circus: %s; trying again in %.0f s", error, every_s)
            time.sleep(every_s)
