"""Sending alerts: e-mail (Django's mail, through MailSettings), a webhook (a JSON POST) and ntfy
(the message POSTed to <server>/<topic> with Title, Priority and Tags headers).

Each channel of an event is one delivery, tried with a timeout; a failure is recorded with its
error and tried again later (after 10 s, 60 s, then 5 min), at most MAX_ATTEMPTS times. A
channel that fails never stops the others: every error is caught, logged and kept. Deliveries
to different targets are sent side by side (SEND_THREADS), so a server that hangs until its
timeout delays no other channel; one target gets its alerts in the order they happened, a later
one waiting while an earlier one is retried. What is sent is put together, and every result
recorded, on the calling thread: the sending threads only talk to the services, never to the
database.
"""

from __future__ import annotations

import json
import logging
import queue
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email.header import Header
from functools import partial
from urllib.parse import urlsplit

from fermentrack.web.alerts.models import (
    SEND_TIMEOUT_S,
    AlertEvent,
    Channel,
    DeliveryStatus,
    EventKind,
    MailSettings,
    email_addresses,
)

log = logging.getLogger("fermentrack.alerts")

MAX_ATTEMPTS = 4
RETRY_AFTER_S = (10, 60, 300)  # after the 1st, 2nd, 3rd failed attempt
SEND_THREADS = 8
USER_AGENT = "Fermentrack alerts"


class DeliveryError(Exception):
    """A channel refused or could not be reached; the message says which and why."""


def webhook_body(event: AlertEvent) -> dict:
    """{rule, subject, kind, state: "firing"|"recovered", message, ts}."""
    rule = event.rule
    return {
        "rule": rule.pk if rule else None,
        "subject": rule.subject_name if rule else None,
        "kind": rule.kind if rule else "test",
        "state": "recovered" if event.kind == EventKind.RECOVERED else "firing",
        "message": event.message,
        "ts": event.ts,
    }


def server_of(url: str) -> str:
    """'https://ntfy.sh' of 'https://ntfy.sh/my-topic': errors are shown in the history, to
    guests too, and a webhook's path or an ntfy topic is as good as a password."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"User-Agent": USER_AGENT, **headers}
    )
    server = server_of(url)
    try:
        with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_S) as answer:
            answer.read(4096)
    except urllib.error.HTTPError as error:
        detail = error.read(300).decode(errors="replace").strip()
        raise DeliveryError(
            f"{server} answered {error.code} {error.reason}" + (f": {detail}" if detail else "")
        ) from None
    except urllib.error.URLError as error:
        raise DeliveryError(f"{server} could not be reached: {error.reason}") from None
    except (TimeoutError, OSError, ValueError) as error:
        raise DeliveryError(f"{server} could not be reached: {error}") from None


def webhook_request(url: str, event: AlertEvent) -> Callable[[], None]:
    body = json.dumps(webhook_body(event)).encode()
    return partial(_post, url, body, {"Content-Type": "application/json"})


def ntfy_request(url: str, event: AlertEvent) -> Callable[[], None]:
    recovered = event.kind == EventKind.RECOVERED
    headers = {
        "Title": _header_text(event.title),
        "Priority": "default" if recovered else "high",
        "Tags": "white_check_mark" if recovered else "warning",
        "Content-Type": "text/plain; charset=utf-8",
    }
    return partial(_post, url, event.message.encode(), headers)


def _header_text(text: str) -> str:
    """HTTP header values are bytes: anything beyond ASCII ('°', '–') goes as an RFC 2047
    encoded word, which ntfy decodes (since its v2.4.0)."""
    if text.isascii():
        return text
    return Header(text, "utf-8").encode()


def _send_email(mail: MailSettings, addresses: str, title: str, message: str) -> None:
    try:
        mail.send(email_addresses(addresses), title, message)
    except Exception as error:  # SMTP, socket and validation errors alike: say what it was
        raise DeliveryError(f"e-mail to {addresses}: {type(error).__name__}: {error}") from None


def email_request(addresses: str, event: AlertEvent, mail: MailSettings) -> Callable[[], None]:
    return partial(_send_email, mail, addresses, event.title, event.message)


def _request(delivery: dict, event: AlertEvent, mail: MailSettings | None) -> Callable[[], None]:
    """The delivery's send, ready to run on any thread."""
    channel, target = delivery["channel"], delivery["target"]
    if channel == Channel.EMAIL:
        return email_request(target, event, mail or MailSettings.load())
    if channel == Channel.WEBHOOK:
        return webhook_request(target, event)
    return ntfy_request(target, event)


def _record(event: AlertEvent, delivery: dict, error: BaseException | None, now: int) -> None:
    """Write one attempt's outcome into its delivery (and the event's sending flag)."""
    if error is not None:
        delivery["error"] = str(error)[:500]
        if delivery["attempts"] >= MAX_ATTEMPTS:
            delivery["status"] = DeliveryStatus.FAILED.value
            log.error(
                "alert %s: %s failed for good after %d attempts: %s",
                event.pk,
                delivery["channel"],
                delivery["attempts"],
                error,
            )
        else:
            wait = RETRY_AFTER_S[min(delivery["attempts"], len(RETRY_AFTER_S)) - 1]
            delivery["next_try"] = now + wait
            log.warning(
                "alert %s: %s failed (attempt %d, again in %d s): %s",
                event.pk,
                delivery["channel"],
                delivery["attempts"],
                wait,
                error,
            )
    else:
        delivery["status"] = DeliveryStatus.SENT.value
        delivery["sent_at"] = now
        delivery["error"] = ""
        target = delivery["target"]
        if delivery["channel"] != Channel.EMAIL:
            target = server_of(target)
        log.info("alert %s: sent by %s to %s", event.pk, delivery["channel"], target)
    event.update_sending()


def deliver_pending(now: int) -> int | None:
    """Try every pending delivery that is due at `now` and record each result as it comes.
    A target gets its alerts in the order they happened: a delivery waits while an earlier
    event's delivery to the same target is still pending (being retried), so an alert and its
    recovery never swap places. Different targets are sent side by side, so a hung server holds
    back no other. Answers when the next retry is due (Unix seconds), or None when nothing is
    pending."""
    events = list(
        AlertEvent.objects.filter(sending=True)
        .select_related("rule__beer__device", "rule__device", "rule__sensor")
        .order_by("ts", "id")
    )
    # Each pass sends what is due; one sent may let the next to its target go.
    while due := [pair for pair in _first_pending(events) if pair[1]["next_try"] <= now]:
        _send_due(due, now)
    pending = [delivery["next_try"] for _, delivery in _first_pending(events)]
    return min(pending) if pending else None


def _first_pending(events: list[AlertEvent]) -> list[tuple[AlertEvent, dict]]:
    """Each target's oldest pending delivery: later events' deliveries to it wait for it."""
    first: dict[tuple[str, str], tuple[AlertEvent, dict]] = {}
    for event in events:
        for delivery in event.deliveries:
            if delivery["status"] == DeliveryStatus.PENDING:
                first.setdefault((delivery["channel"], delivery["target"]), (event, delivery))
    return list(first.values())


def _send_due(due: list[tuple[AlertEvent, dict]], now: int) -> None:
    """Send each due delivery (one per target) on its own thread; record on this one."""
    mail = MailSettings.load() if any(d["channel"] == Channel.EMAIL for _, d in due) else None
    ready = []
    for event, delivery in due:
        delivery["attempts"] += 1
        try:
            ready.append((event, delivery, _request(delivery, event, mail)))
        except Exception as error:  # what cannot be put together counts as a failed attempt
            _record(event, delivery, error, now)
            event.save(update_fields=["deliveries", "sending"])
    if not ready:
        return
    outcomes: queue.SimpleQueue = queue.SimpleQueue()

    def attempt(event: AlertEvent, delivery: dict, send: Callable[[], None]) -> None:
        try:
            send()
        except BaseException as error:  # recorded on the alerter's thread, whatever it is
            outcomes.put((event, delivery, error))
        else:
            outcomes.put((event, delivery, None))

    with ThreadPoolExecutor(min(SEND_THREADS, len(ready)), thread_name_prefix="alert-send") as pool:
        for event, delivery, send in ready:
            pool.submit(attempt, event, delivery, send)
        for _ in ready:
            event, delivery, error = outcomes.get()
            _record(event, delivery, error, now)
            event.save(update_fields=["deliveries", "sending"])
