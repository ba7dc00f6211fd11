"""`fermentrack manage pusher`: the `push` watcher. Every second it looks for active push
targets that are due and hands each to a small pool of worker threads, so a slow or hung
service (cut at 10 s) never holds up another target. One log line per send; a bad target is
recorded on its row and the process goes on. SIGTERM stops it cleanly."""

from __future__ import annotations

import logging
import queue
import signal
import threading
from datetime import UTC, datetime

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import Q

from fermentrack import config
from fermentrack.web.push.models import PushTarget
from fermentrack.web.push.sending import send_target

log = logging.getLogger("fermentrack.push")

LOOK_EVERY_S = 1.0  # how often the due targets are looked up; 'send now' waits at most this
WORKERS = 4  # sends at once; each is bounded by the 10 s timeout


class Pusher:
    def __init__(self, time_scale: float = 1.0, workers: int = WORKERS) -> None:
        self.time_scale = time_scale
        self.stopping = threading.Event()
        self._queue: queue.Queue[int] = queue.Queue()
        self._in_flight: set[int] = set()
        self._lock = threading.Lock()
        self._workers = [
            threading.Thread(target=self._work, name=f"push-{n}", daemon=True)
            for n in range(workers)
        ]

    def run(self, rounds: int | None = None) -> None:
        for worker in self._workers:
            worker.start()
        done = 0
        while not self.stopping.is_set():
            self.queue_due()
            done += 1
            if rounds is not None and done >= rounds:
                self._queue.join()
                break
            self.stopping.wait(LOOK_EVERY_S)

    def queue_due(self) -> None:
        close_old_connections()
        now = datetime.now(UTC)
        try:
            due = list(
                PushTarget.objects.filter(active=True)
                .filter(Q(next_due_at__isnull=True) | Q(next_due_at__lte=now))
                .order_by("next_due_at")
                .values_list("pk", flat=True)
            )
        except DatabaseError as error:
            log.warning("database unavailable (%s): no pushes this round", error)
            return
        with self._lock:
            for pk in due:
                if pk not in self._in_flight:
                    self._in_flight.add(pk)
                    self._queue.put(pk)

    def _work(self) -> None:
        while True:
            pk = self._queue.get()
            try:
                close_old_connections()
                send_target(pk, self.time_scale)
            except Exception:  # the row could not even be written: log, go on
                log.exception("push target %s: the send could not be recorded", pk)
            finally:
                with self._lock:
                    self._in_flight.discard(pk)
                self._queue.task_done()
                connection.close()  # sends are minutes apart: do not hold a connection


class Command(BaseCommand):
    help = "Send push targets (Brewfather, Brewer's Friend, ThingSpeak, ...) when due, for ever."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="send what is due, then exit")

    def handle(self, *args, once: bool = False, **options) -> None:
        scale = config.push_time_scale()
        pusher = Pusher(time_scale=scale)

        def stop(signum, frame) -> None:
            log.info("pusher stopping (signal %d)", signum)
            pusher.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info(
            "pusher started: %d active targets%s",
            PushTarget.objects.filter(active=True).count(),
            f", time scale {scale}" if scale != 1 else "",
        )
        pusher.run(rounds=1 if once else None)
        log.info("pusher stopped")
