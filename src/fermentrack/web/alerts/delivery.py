"""Sending alerts: e-mail (Django's mail, through MailSettings), a webhook (a JSON POST) and ntfy
(the message POSTed to <server>/<topic> with Title, Priority and Tags headers).

Each channel of an event is one delivery, tried with a timeout; a failure is recorded with its
error and tried again later (after 10 s, 60 s, then 5 min), at most MAX_ATTEMPTS times. A
channel that fails never stops the others: every error is caught, logged and kept.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from email.header import Header
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


def send_webhook(url: str, event: AlertEvent) -> None:
    body = json.dumps(webhook_body(event)).encode()
    _post(url, body, {"Content-Type": "application/json"})


def send_ntfy(url: str, event: AlertEvent) -> None:
    recovered = event.kind == EventKind.RECOVERED
    headers = {
        "Title": event.title,
        "Priority": "default" if recovered else "high",
        "Tags": "white_check_mark" if recovered else "warning",
        "Content-Type": "text/plain; charset=utf-8",
    }
    headers["Title"] = _header_text(headers["Title"])
    _post(url, event.message.encode(), headers)


def _header_text(text: str) -> str:
    """HTTP header values are bytes: anything beyond ASCII ('°', '–') goes as an RFC 2047
    encoded word, which ntfy decodes (since its v2.4.0)."""
    if text.isascii():
        return text
    return Header(text, "utf-8").encode()


def send_email(addresses: str, event: AlertEvent) -> None:
    try:
        MailSettings.load().send(email_addresses(addresses), event.title, event.message)
    except Exception as error:  # SMTP, socket and validation errors alike: say what it was
        raise DeliveryError(f"e-mail to {addresses}: {type(error).__name__}: {error}") from None


SENDERS = {
    Channel.EMAIL.value: send_email,
    Channel.WEBHOOK.value: send_webhook,
    Channel.NTFY.value: send_ntfy,
}


def deliver_due(event: AlertEvent, now: int) -> int | None:
    """Try every pending delivery of `event` that is due at `now`; record each result. Answers
    when the next retry is due (Unix seconds), or None when nothing is pending."""
    next_due = None
    for delivery in event.deliveries:
        if delivery["status"] != DeliveryStatus.PENDING:
            continue
        if delivery["next_try"] > now:
            next_due = min(next_due or delivery["next_try"], delivery["next_try"])
            continue
        delivery["attempts"] += 1
        try:
            SENDERS[delivery["channel"]](delivery["target"], event)
        except Exception as error:
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
                next_due = min(next_due or delivery["next_try"], delivery["next_try"])
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
        event.save(update_fields=["deliveries", "sending"])
    return next_due


def deliver_pending(now: int) -> int | None:
    """Every pending delivery that is due; when the next one falls due (or None)."""
    next_due = None
    for event in AlertEvent.objects.filter(sending=True).order_by("ts", "id"):
        due = deliver_due(event, now)
        if due is not None:
            next_due = due if next_due is None else min(next_due, due)
    return next_due
