"""`fermentrack manage spawner`: the `brewpi-spawner` watcher (procman/spawner.py)."""

from __future__ import annotations

import logging

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from fermentrack import config
from fermentrack.procman.circus_control import Circus
from fermentrack.procman.layout import Layout
from fermentrack.procman.spawner import Spawner
from fermentrack.web.devices.watchers import desired_watchers

log = logging.getLogger("fermentrack.spawner")


class Command(BaseCommand):
    help = "Keep circus' device watchers in step with the database, for ever."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="one round, then exit")

    def handle(self, *args, once: bool = False, **options) -> None:
        layout = Layout()
        every_s = config.env_int("FERMENTRACK_SPAWNER_INTERVAL_S", 3, low=1, high=3600)
        circus = Circus(layout.endpoint("endpoint"))

        def desired():
            close_old_connections()
            try:
                return desired_watchers(layout)
            except DatabaseError as error:
                # Without the database nothing is known: change nothing this round.
                log.warning("database unavailable (%s): keeping the watchers as they are", error)
                return None

        log.info("spawner for %s: a round every %d s", layout.home, every_s)
        Spawner(layout, circus, desired).run(every_s, rounds=1 if once else None)
