"""`fermentrack device add`: add a device from a script and print its controller token once."""

from __future__ import annotations

import argparse
import os
import sys

from fermentrack.config import ConfigError, check_device_name


class DeviceAddError(ValueError):
    """The device cannot be added; the message says why, in one line."""


def _prepare_database() -> None:
    """Set Django up on FERMENTRACK_HOME's database and migrate it when it is not current."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fermentrack.web.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)


def add_device(
    name: str,
    *,
    link: str | None,
    simulated: bool,
    pi_gpio: bool = False,
    controller_address: str = "",
    dialect: str = "esp",
    interval_s: int = 30,
    temp_format: str | None = None,
) -> str:
    """Create the device and return its token (only the token's hash is stored)."""
    try:
        check_device_name(name)
    except ConfigError as error:
        raise DeviceAddError(str(error)) from None
    _prepare_database()
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    from fermentrack.web.brewery.models import BrewerySettings
    from fermentrack.web.devices.models import LOG_INTERVALS_S, Device, validate_link

    if interval_s not in LOG_INTERVALS_S:
        choices = ", ".join(str(s) for s in LOG_INTERVALS_S)
        raise DeviceAddError(f"log interval {interval_s} s is not one of {choices} seconds")
    if link is not None:
        try:
            validate_link(link)
        except ValidationError as error:
            raise DeviceAddError(" ".join(error.messages)) from None
    device = Device(
        name=name,
        link=link or "",
        simulated=simulated,
        pi_gpio=pi_gpio,
        controller_address=controller_address,
        dialect=dialect,
        log_interval_s=interval_s,
        temp_format=temp_format or BrewerySettings.load().temp_format,
    )
    try:
        device.clean_fields(exclude=["token_hash"])
        device.clean()  # one chamber on this Pi's pins at a time, a controller's place
    except ValidationError as error:
        raise DeviceAddError(" ".join(error.messages)) from None
    token = device.issue_token()
    try:
        with transaction.atomic():
            if Device.objects.filter(name=name).exists():
                raise DeviceAddError(f"a device named {name!r} already exists")
            device.save()
    except IntegrityError:  # added by someone else at the same moment
        raise DeviceAddError(f"a device named {name!r} already exists") from None
    return token


def run_device_add(args: argparse.Namespace) -> int:
    try:
        token = add_device(
            args.name,
            link=args.link,
            simulated=args.simulated,
            pi_gpio=args.pi_gpio,
            controller_address=args.controller_address,
            dialect=args.dialect,
            interval_s=args.interval,
            temp_format=args.temp_format,
        )
    except DeviceAddError as error:
        print(f"fermentrack device add: {error}", file=sys.stderr)
        return 1
    print(
        f"added device {args.name!r}; its controller token follows, shown only this once",
        file=sys.stderr,
    )
    print(token)
    return 0
