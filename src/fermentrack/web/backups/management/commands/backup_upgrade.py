"""`manage backup_upgrade REQUEST`: bring an older backup's tables up to this version, on the
temporary database DATABASE_URL names (run by a restore, in a process of its own)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from fermentrack.web.backups.database import DatabaseRefused
from fermentrack.web.backups.operations import upgrade_tables


class Command(BaseCommand):
    help = "bring an older backup's tables up to this version (used by restore)"

    def add_arguments(self, parser) -> None:
        parser.add_argument("request", type=Path)

    def handle(self, *args, request: Path, **options) -> None:
        if connection.vendor != "sqlite" or connection.settings_dict["NAME"] == ":memory:":
            raise CommandError("backup_upgrade runs only on a temporary SQLite database")
        if connection.introspection.table_names():
            raise CommandError("backup_upgrade needs an empty database")
        asked = json.loads(request.read_text())
        try:
            upgrade_tables(
                Path(asked["tables"]), asked["migrations"], asked["counts"], Path(asked["out"])
            )
        except DatabaseRefused as error:
            raise CommandError(str(error)) from None
