"""The alerter as a spawner watcher (`alerts`): it runs while at least one rule is enabled."""

from __future__ import annotations

import sys

from fermentrack.procman.layout import ALERTS_WATCHER
from fermentrack.procman.spawner import WatcherSpec
from fermentrack.web.alerts.models import AlertRule


def alert_watchers() -> list[WatcherSpec]:
    """[the alerts spec] while an enabled alert rule exists, else []."""
    if not AlertRule.objects.filter(enabled=True).exists():
        return []
    return [
        WatcherSpec(
            name=ALERTS_WATCHER,
            cmd=sys.executable,
            args=("-m", "fermentrack.cli", "manage", "alerter"),
        )
    ]
