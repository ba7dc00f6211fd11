"""The push targets process as a spawner watcher (`push`): `fermentrack manage pusher` runs
while at least one push target is active, so a brewery that pushes nowhere runs no extra
process."""

from __future__ import annotations

import sys

from fermentrack.procman.layout import PUSH_WATCHER
from fermentrack.procman.spawner import WatcherSpec
from fermentrack.web.push.models import PushTarget


def push_watchers() -> list[WatcherSpec]:
    """[the push spec] while an active push target exists, else []."""
    if not PushTarget.objects.filter(active=True).exists():
        return []
    return [
        WatcherSpec(
            name=PUSH_WATCHER,
            cmd=sys.executable,
            args=("-m", "fermentrack.cli", "manage", "pusher"),
        )
    ]
