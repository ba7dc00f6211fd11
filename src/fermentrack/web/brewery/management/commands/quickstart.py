"""`fermentrack manage quickstart`: what a fresh install needs to show something at once: an
admin (its password printed this once), a simulated chamber and a beer logging on it. Finds
them in place on every later run and changes nothing."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from fermentrack.web.beers.models import Beer
from fermentrack.web.devices.models import Device

ADMIN = "admin"
CHAMBER = "chamber-1"
BEER = "First beer"


class Command(BaseCommand):
    help = "Create an admin, a simulated chamber and a beer, unless the brewery has them."

    def handle(self, *args, **options) -> None:
        users = get_user_model()
        with transaction.atomic():
            if not users.objects.filter(is_superuser=True).exists():
                password = secrets.token_urlsafe(12)
                users.objects.create_superuser(ADMIN, password=password)
                self.stdout.write(
                    f"Created the admin: user {ADMIN!r}, password {password!r}\n"
                    "  (shown only this once; change it on the People page)"
                )
            if not Device.objects.exists():
                device = Device(name=CHAMBER, simulated=True)
                device.issue_token()  # the spawner issues the controller's own
                device.save()
                Beer.start(device, BEER)
                self.stdout.write(
                    f"Added {CHAMBER!r}, a simulated chamber, logging the beer {BEER!r}"
                )
