"""`fermentrack manage alerter`: the `alerts` watcher. Checks every enabled rule every 30 s
(FERMENTRACK_ALERTS_CHECK_S), and sends what fired or recovered, retrying failed channels."""

from __future__ import annotations

import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from fermentrack import config
from fermentrack.web.alerts.delivery import deliver_pending
from fermentrack.web.alerts.evaluator import check_rules

log = logging.getLogger("fermentrack.alerts")

DEFAULT_CHECK_S = 30


def check_interval_s() -> int:
    return config.env_int("FERMENTRACK_ALERTS_CHECK_S", DEFAULT_CHECK_S, low=1, high=3600)


def one_round() -> int | None:
    """Check the rules, then send what is due; when a retry falls due next (or None)."""
    close_old_connections()
    now = int(time.time())
    check_rules(now)
    return deliver_pending(int(time.time()))


class Command(BaseCommand):
    help = "Check the alert rules and send alerts, for ever."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="one round, then exit")

    def handle(self, *args, once: bool = False, **options) -> None:
        every_s = check_interval_s()
        stopping = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        log.info("alerter: checking the rules every %d s", every_s)
        while not stopping.is_set():
            wait_s: float = every_s
            try:
                next_retry = one_round()
                if next_retry is not None:
                    wait_s = min(every_s, max(1.0, next_retry - time.time()))
            except DatabaseError as error:
                log.warning("database unavailable (%s): trying again in %d s", error, every_s)
            except Exception:
                # A bug in one round must not end the alerts for good: log it, go on.
                log.exception("the alerter's round failed; trying again in %d s", every_s)
            if once:
                break
            stopping.wait(wait_s)
        log.info("alerter stopped")
