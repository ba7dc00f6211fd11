"""Sends the outbox to the web app: one request at a time, backing off while it is away, never
giving up.

Points and annotations go in batches of at most 1000 (interfaces.md §1); what the web app
answers is acknowledged in the outbox, duplicates included (they were delivered before). When
the web app is unavailable the uploader waits 1 s, 2 s, 4 s ... up to max_backoff_s, with
jitter so that a brewery's controllers do not return in step. A batch is all or nothing on the
web app, so when it refuses one (400, 413) the batch is split in halves until the refused
entries are found: those are logged with the web app's reason and dropped, the rest delivered.
Any other refusal (401: a wrong token, 404: a wrong URL) is about the controller's set-up, not
its data: everything stays in the outbox and is tried again slowly until the set-up is fixed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time

from fermentrack.controller.outbox import KINDS, Outbox
from fermentrack.controller.web_api import WebApi, WebRejected, WebUnavailable

log = logging.getLogger(__name__)

MAX_BATCH = 1000  # entries a call (interfaces.md §1)
MAX_BATCH_BYTES = 512 * 1024  # well under the web app's 1 MB body limit, even for long texts
INITIAL_BACKOFF_S = 1.0
REFUSED_ENTRY_STATUSES = frozenset({400, 413})  # the data is wrong: find it and drop it


def backoff_delay(failures: int, initial_s: float, maximum_s: float) -> float:
    """The wait after `failures` failed tries in a row: initial_s, doubling, at most maximum_s."""
    return min(maximum_s, initial_s * 2.0 ** min(failures - 1, 64))


def with_jitter(delay_s: float) -> float:
    """A random wait between 75 % and 100 % of `delay_s`: spread out, never above it."""
    return delay_s * random.uniform(0.75, 1.0)


class Uploader:
    """Drains an Outbox into a WebApi; run() until `stop` is set. Cancelling it is safe too:
    what the web app acknowledged is marked, the rest is sent again (as duplicates at worst).
    """

    def __init__(
        self,
        outbox: Outbox,
        api: WebApi,
        *,
        max_backoff_s: float = 60.0,
        initial_backoff_s: float = INITIAL_BACKOFF_S,
    ) -> None:
        if not (initial_backoff_s > 0 and max_backoff_s > 0):
            raise ValueError(
                f"backoff from {initial_backoff_s!r} s to {max_backoff_s!r} s: expected "
                "numbers of seconds above 0"
            )
        self.outbox = outbox
        self.api = api
        self.max_backoff_s = max_backoff_s
        self.initial_backoff_s = min(initial_backoff_s, max_backoff_s)
        self.delivered = 0  # entries the web app acknowledged (duplicates included)
        self.dropped = 0  # entries the web app refused, logged and dropped
        self.last_error: str | None = None  # why the last try failed; None once one succeeds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """New entries were appended: send them now (call from the event loop's thread)."""
        self._wake.set()

    @property
    def backlog(self) -> int:
        """Entries waiting in the outbox."""
        return len(self.outbox)

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        unavailable_since: float | None = None
        while not stop.is_set():
            self._wake.clear()
            try:
                sent = await self._send_a_batch_of_each_kind()
            except WebUnavailable as error:
                failures += 1
                delay = with_jitter(
                    backoff_delay(failures, self.initial_backoff_s, self.max_backoff_s)
                )
                self.last_error = f"web app unavailable: {error}"
                if unavailable_since is None:
                    unavailable_since = time.monotonic()
                    log.warning(
                        "%s; %d entries wait in the outbox, trying again in %.1f s",
                        self.last_error,
                        self.backlog,
                        delay,
                    )
                else:
                    log.info("%s; trying again in %.1f s", self.last_error, delay)
                await _wait_for_any(stop, timeout=delay)
                continue
            except WebRejected as error:
                delay = with_jitter(self.max_backoff_s)
                self.last_error = _refusal(error)
                log.error(
                    "%s; keeping all %d entries in the outbox, trying again in %.0f s",
                    self.last_error,
                    self.backlog,
                    delay,
                )
                await _wait_for_any(stop, timeout=delay)
                continue
            if unavailable_since is not None:
                log.info(
                    "web app reachable again after %.0f s", time.monotonic() - unavailable_since
                )
                unavailable_since = None
            failures = 0
            self.last_error = None
            if not sent:
                await _wait_for_any(stop, self._wake)

    async def _send_a_batch_of_each_kind(self) -> bool:
        """One batch of points, then one of annotations; False when there was nothing."""
        sent = False
        for kind in KINDS:
            entries = await asyncio.to_thread(self.outbox.pending, kind, MAX_BATCH)
            if entries:
                await self._deliver(kind, _fit_in_one_body(entries))
                sent = True
        return sent

    async def _deliver(self, kind: str, entries: list[tuple[int, dict]]) -> None:
        """Send a batch; when the web app refuses it, send each half on its own, down to the
        entries it refuses, which are dropped."""
        try:
            await self._post(kind, [item for _, item in entries])
        except WebRejected as error:
            if error.status_code not in REFUSED_ENTRY_STATUSES:
                raise
            if len(entries) > 1:
                log.info(
                    "the web app refused a batch of %d %ss (%s); looking for the refused ones",
                    len(entries),
                    kind,
                    error.detail,
                )
                middle = len(entries) // 2
                await self._deliver(kind, entries[:middle])
                await self._deliver(kind, entries[middle:])
                return
            ((entry_id, item),) = entries
            log.error(
                "dropping %s %d %s: the web app refused it: %s",
                kind,
                entry_id,
                _shorten(json.dumps(item, ensure_ascii=False)),
                error.detail,
            )
            await asyncio.to_thread(self.outbox.acknowledge, [entry_id])
            self.dropped += 1
            return
        await asyncio.to_thread(self.outbox.acknowledge, [entry_id for entry_id, _ in entries])
        self.delivered += len(entries)

    async def _post(self, kind: str, items: list[dict]) -> dict:
        if kind == "point":
            answer = await self.api.post_points(items)
        else:
            answer = await self.api.post_annotations(items)
        log.debug("sent %d %ss: %s", len(items), kind, answer)
        return answer


def _fit_in_one_body(entries: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
    """The first entries whose JSON stays under MAX_BATCH_BYTES (always at least one)."""
    size = 0
    for count, (_, item) in enumerate(entries):
        size += len(json.dumps(item, ensure_ascii=False).encode()) + 1
        if size > MAX_BATCH_BYTES and count > 0:
            return entries[:count]
    return entries


def _refusal(error: WebRejected) -> str:
    if error.status_code == 401:
        return (
            f"the web app refused the device token (HTTP 401: {error.detail}): check "
            "FERMENTRACK_DEVICE_TOKEN"
        )
    return f"the web app refused the request (HTTP {error.status_code}: {error.detail})"


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


async def _wait_for_any(*events: asyncio.Event, timeout: float | None = None) -> None:
    """Until one of the events is set, or `timeout` seconds passed."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
