"""`fermentrack backup` and `fermentrack restore FILE`: thin doors into operations.py."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

REFUSED = 2  # the exit code of a backup or restore that could not be done


def prepare_database() -> None:
    """Set Django up on FERMENTRACK_HOME's database, migrated to this version (a fresh home
    gets its tables, as `fermentrack start` would give them)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fermentrack.web.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)


NIGHTLY_LOG = "backup-nightly.log"


def _log_nightly_to_file() -> None:
    """cron mails what a job prints: the nightly backup logs to log/backup-nightly.log
    instead, and only a failure reaches stderr (and the mail)."""
    from logging.handlers import RotatingFileHandler

    from fermentrack import config

    config.log_dir().mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(
        config.log_dir() / NIGHTLY_LOG,
        maxBytes=config.LOG_ROTATE_BYTES,
        backupCount=config.LOG_ROTATE_KEEP,
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        old.setLevel(logging.WARNING)
    root.addHandler(handler)


def run_backup(args: argparse.Namespace) -> int:
    prepare_database()
    from fermentrack.web.backups.archive import BackupRefused
    from fermentrack.web.backups.operations import create_backup, nightly_backup

    try:
        if args.nightly:
            _log_nightly_to_file()
            nightly_backup()  # logs what it did; does nothing when nightly backups are off
            return 0
        path, manifest = create_backup(args.to)
    except BackupRefused as error:
        print(f"fermentrack backup: {error}", file=sys.stderr)
        return REFUSED
    print(path)
    for label, count in sorted(manifest.counts.items()):
        if count:
            print(f"{label}: {count}")
    firmware = sum(1 for f in manifest.files if f.name.startswith("firmware/"))
    print(f"{manifest.total_rows} rows in {len(manifest.counts)} tables, {firmware} firmware files")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    file = Path(args.file)
    if not file.is_file():
        print(f"fermentrack restore: {file} is not a file", file=sys.stderr)
        return REFUSED
    prepare_database()
    from fermentrack.web.backups.archive import BackupRefused
    from fermentrack.web.backups.operations import restore_backup

    try:
        result = restore_backup(file)
    except BackupRefused as error:
        print(f"fermentrack restore: {error}", file=sys.stderr)
        return REFUSED
    print(result.summary())
    return 0
