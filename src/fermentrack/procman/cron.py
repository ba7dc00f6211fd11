"""`fermentrack add2cron`: cron starts the stack at boot and checks it every 10 minutes.

Adds `@reboot ... start`, `*/10 * * * * ... startifstopped` and the nightly `backup --nightly`
to the user's crontab when they are missing; run it again and nothing changes. Never together
with the systemd unit.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from crontab import CronTab

from fermentrack.procman.layout import Layout

CHECK_EVERY_MINUTES = 10
# `backup --nightly` does nothing unless nightly backups are on (Settings › Backups).
NIGHTLY_BACKUP_SCHEDULE = "17 3 * * *"


def fermentrack_command(layout: Layout, verb: str) -> str:
    """The command line cron runs: this installation's `fermentrack`, for this home."""
    script = Path(sys.executable).parent / "fermentrack"
    program = (
        shlex.quote(str(script))
        if script.exists()
        else f"{shlex.quote(sys.executable)} -m fermentrack.cli"
    )
    return f"FERMENTRACK_HOME={shlex.quote(str(layout.home))} {program} {verb}"


def wanted_jobs(layout: Layout) -> list[tuple[str, str]]:
    """(schedule, command) of the entries: start, check, nightly backup."""
    return [
        ("@reboot", fermentrack_command(layout, "start")),
        (f"*/{CHECK_EVERY_MINUTES} * * * *", fermentrack_command(layout, "startifstopped")),
        (NIGHTLY_BACKUP_SCHEDULE, fermentrack_command(layout, "backup --nightly")),
    ]


def add_to_cron(layout: Layout, tab: CronTab | None = None) -> list[str]:
    """Add the missing entries to the user's crontab; the lines added (none when present)."""
    tab = tab if tab is not None else CronTab(user=True)
    present = {(job.slices.render(), job.command) for job in tab}
    added = []
    for schedule, command in wanted_jobs(layout):
        if (schedule, command) in present:
            continue
        job = tab.new(command=command, comment="Fermentrack")
        job.setall(schedule)
        added.append(f"{schedule} {command}")
    if added:
        tab.write()
    return added
