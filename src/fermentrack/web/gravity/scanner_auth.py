"""The Tilt scanner's token: the spawner issues one when it adds the `tilt-scanner` watcher and
hands it over in the watcher's environment; only its hash is kept, and a new one replaces the
old, so a scanner started earlier with another token is turned away."""

from __future__ import annotations

import secrets

from django.db import transaction

from fermentrack.web.devices.models import hash_token
from fermentrack.web.gravity.models import ScannerCredential

_ROW = 1  # the one row that holds the hash


def issue_scanner_token() -> str:
    """A new scanner token; the old one stops working."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        ScannerCredential.objects.update_or_create(
            pk=_ROW, defaults={"token_hash": hash_token(token)}
        )
    return token


def scanner_token_matches(token: str) -> bool:
    credential = ScannerCredential.objects.filter(pk=_ROW).first()
    if credential is None or not token:
        return False
    return secrets.compare_digest(credential.token_hash, hash_token(token))
