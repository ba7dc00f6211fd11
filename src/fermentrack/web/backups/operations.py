"""Backing up and restoring a home: what `fermentrack backup`/`restore`, the nightly cron line
and the backups page all call.

A restore changes nothing until the whole archive has been checked against its manifest and
found to come from this version or an older one. The database is then replaced in one
transaction, the firmware's files are put back, and the restore generation goes up: the
spawner puts it into every device watcher's environment, so each controller is replaced and
gets a fresh token (the tokens' hashes came back with the database, the tokens did not).

An archive from an older version whose database changes (migrations) this version has more of
is first loaded into a temporary SQLite database at the archive's migrations, migrated forward
there, and copied in from that.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps as installed_apps
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from fermentrack import __version__, config
from fermentrack.web.backups import archive
from fermentrack.web.backups.archive import BackupRefused, Manifest, MemberFile
from fermentrack.web.backups.database import (
    DatabaseRefused,
    applied_migrations,
    dump_database,
    load_tables,
)
from fermentrack.web.backups.models import BackupSettings

log = logging.getLogger(__name__)

SUMMARY = {
    "devices.device": "devices",
    "beers.beer": "beers",
    "beers.logpoint": "log points",
    "profiles.fermentationprofile": "profiles",
    "gravity.gravityreading": "gravity readings",
    "auth.user": "people",
}


def backups_dir() -> Path:
    return config.home() / "backups"


@dataclass
class BackupEntry:
    """An archive in the backups folder, as the page lists it."""

    path: Path
    size: int
    manifest: Manifest | None
    problem: str = ""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def summary(self) -> list[tuple[str, int]]:
        """The counts a brewer recognises, for the list of archives."""
        counts = self.manifest.counts if self.manifest else {}
        return [(words, counts[label]) for label, words in SUMMARY.items() if counts.get(label)]


@dataclass
class RestoreResult:
    manifest: Manifest
    rows: int
    tables: int
    firmware_files: int
    upgraded: bool  # from an older version's migrations, migrated forward

    def summary(self) -> str:
        made = f"made {self.manifest.created_at} by Fermentrack {self.manifest.fermentrack_version}"
        upgraded = "; its database was brought up to this version" if self.upgraded else ""
        return (
            f"restored {self.rows} rows in {self.tables} tables and {self.firmware_files} "
            f"firmware files ({made}){upgraded}"
        )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def _free_name(folder: Path, when: datetime.datetime) -> Path:
    """The archive's name for `when`, numbered -2, -3 ... when one was made that second."""
    base = archive.archive_name(config.home(), when).removesuffix(archive.SUFFIX)
    target = folder / f"{base}{archive.SUFFIX}"
    number = 2
    while target.exists():
        target = folder / f"{base}-{number}{archive.SUFFIX}"
        number += 1
    return target


def create_backup(folder: Path | None = None, *, nightly: bool = False) -> tuple[Path, Manifest]:
    """Write one archive of the database (one consistent snapshot, taken while everything
    runs) and the firmware's files into `folder` (default FERMENTRACK_HOME/backups)."""
    folder = (folder or backups_dir()).resolve()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # archives hold password hashes
    when = _now()
    target = _free_name(folder, when)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".building-") as work:
        migrations, tables = dump_database(Path(work))
        firmware = list(archive.firmware_files(config.firmware_dir()))
        database_files = [(f"{archive.DATABASE_FOLDER}/{t.path.name}", t.path) for t in tables]
        members = [
            MemberFile(name, table.size, table.sha256)
            for (name, _), table in zip(database_files, tables, strict=True)
        ] + [
            MemberFile(name, len(data), hashlib.sha256(data).hexdigest()) for name, data in firmware
        ]
        manifest = Manifest(
            fermentrack_version=__version__,
            created_at=when.isoformat(),
            home=config.home().name,
            database_vendor=connection.vendor,
            migrations=migrations,
            counts={table.label: table.rows for table in tables},
            files=members,
            nightly=nightly,
        )
        archive.write_archive(target, manifest, database_files, firmware)
    log.info(
        "backup %s: %d rows in %d tables, %d firmware files",
        target,
        manifest.total_rows,
        len(tables),
        len(firmware),
    )
    return target, manifest


def list_backups(folder: Path | None = None) -> list[BackupEntry]:
    """The archives in `folder`, newest first; one that cannot be read says why."""
    folder = folder or backups_dir()
    if not folder.is_dir():
        return []
    entries = []
    for path in folder.iterdir():
        if not archive.is_archive_name(path.name) or not path.is_file():
            continue
        try:
            entries.append(BackupEntry(path, path.stat().st_size, archive.read_manifest(path)))
        except BackupRefused as error:
            entries.append(BackupEntry(path, path.stat().st_size, None, str(error)))
        except FileNotFoundError:  # deleted while we looked
            continue
    return sorted(entries, key=_age, reverse=True)


def _age(entry: BackupEntry) -> tuple[str, int]:
    created = entry.manifest.created_at if entry.manifest else ""
    try:
        return created, entry.path.stat().st_mtime_ns
    except FileNotFoundError:
        return created, 0


def backup_path(name: str, folder: Path | None = None) -> Path:
    """The archive called `name` in the backups folder; BackupRefused for any other name."""
    folder = folder or backups_dir()
    if "/" in name or not archive.is_archive_name(name) or not (folder / name).is_file():
        raise BackupRefused(f"there is no backup called {name!r}")
    return folder / name


def prune_nightly(keep: int, folder: Path | None = None) -> list[Path]:
    """Delete all but the newest `keep` nightly archives; those made by hand stay."""
    nightly = [e for e in list_backups(folder) if e.manifest is not None and e.manifest.nightly]
    deleted = []
    for entry in nightly[max(keep, 1) :]:
        entry.path.unlink(missing_ok=True)
        log.info("nightly backup %s deleted (keeping the last %d)", entry.name, keep)
        deleted.append(entry.path)
    return deleted


def nightly_backup() -> tuple[Path, Manifest, list[Path]] | None:
    """What cron runs each night: nothing unless the brewery turned nightly backups on."""
    settings = BackupSettings.load()
    if not settings.nightly:
        return None
    path, manifest = create_backup(nightly=True)
    return path, manifest, prune_nightly(settings.nightly_keep)


def _known_migrations() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def check_restorable(manifest: Manifest) -> None:
    """Refuse an archive made by a newer Fermentrack, or holding database changes this version
    does not know, in one sentence."""
    theirs = manifest.fermentrack_version
    if archive.version_tuple(theirs) > archive.version_tuple(__version__):
        raise BackupRefused(
            f"this backup was made by Fermentrack {theirs}; this is {__version__}: update first"
        )
    known = _known_migrations()
    unknown = sorted(
        f"{app} {name}"
        for app, names in manifest.migrations.items()
        for name in names
        if (app, name) not in known
    )
    if unknown:
        shown = ", ".join(unknown[:3]) + (" ..." if len(unknown) > 3 else "")
        raise BackupRefused(
            f"this backup was made by Fermentrack {theirs} with database changes this "
            f"Fermentrack {__version__} does not know ({shown}): update first"
        )


def _as_set(migrations: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {(app, name) for app, names in migrations.items() for name in names}


def _upgrade_database(checked: archive.CheckedArchive, work: Path, name: str) -> dict[str, int]:
    """Bring an older archive's tables up to this version in a process of their own, on a
    temporary SQLite database (manage backup_upgrade); answers the new row counts, the new
    tables being in `work`/upgraded."""
    request = work / "upgrade.json"
    request.write_text(
        json.dumps(
            {
                "tables": str(checked.folder),
                "migrations": checked.manifest.migrations,
                "counts": checked.manifest.counts,
                "out": str(work / "upgraded"),
            }
        )
    )
    env = os.environ | {"DATABASE_URL": f"sqlite:///{work / 'upgrade.sqlite3'}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, "-m", "fermentrack.cli", "manage", "backup_upgrade", str(request)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        log.warning("bringing %s up to this version failed:\n%s", name, done.stderr)
        why = lines[-1] if lines else f"exit code {done.returncode}"
        raise BackupRefused(f"{name} could not be brought up to this version: {why}")
    checked.folder = work / "upgraded"
    return json.loads((work / "upgraded" / "counts.json").read_text())


def upgrade_tables(tables: Path, migrations: dict[str, list[str]], counts, out: Path) -> None:
    """In a process whose default database is an empty temporary one: migrate it to the
    archive's migrations, load the archive's tables with the models of that time, migrate it
    to this version (data migrations run on the brewery's data), and dump it into `out`."""
    executor = MigrationExecutor(connection)
    theirs = _as_set(migrations)
    graph = executor.loader.graph
    targets = [
        node
        for node in theirs
        if not any(child.key in theirs for child in graph.node_map[node].children)
    ]
    executor.migrate(targets)
    historical = executor.loader.project_state(targets, at_end=True).apps
    with transaction.atomic():
        load_tables(tables, counts, historical)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    _, dumped = dump_database(out)
    (out / "counts.json").write_text(json.dumps({table.label: table.rows for table in dumped}))


def restore_backup(path: Path, shown_as: str | None = None) -> RestoreResult:
    """Replace this home's database and firmware files with the archive's. BackupRefused,
    with nothing changed, when the archive is not ours, damaged, or from a newer version.
    `shown_as`: the archive's name in messages (an upload's own name)."""
    path = Path(path)
    name = shown_as or path.name
    backups_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=backups_dir(), prefix=".restoring-") as work:
        work = Path(work)
        (work / "database").mkdir()
        checked = archive.unpack_checked(path, work / "database", check_restorable, name)
        counts = checked.manifest.counts
        upgraded = _as_set(checked.manifest.migrations) != _as_set(applied_migrations())
        try:
            if upgraded:
                counts = _upgrade_database(checked, work, name)
            with transaction.atomic():
                generation = BackupSettings.load().restore_generation
                load_tables(checked.folder, counts, installed_apps)
                settings = BackupSettings.load()
                settings.restore_generation = max(generation, settings.restore_generation) + 1
                settings.last_restored_at = timezone.now()
                settings.last_restored_from = name[:255]
                settings.save()
                # Last, so a file that cannot be written undoes the database too.
                try:
                    archive.write_files_atomically(config.firmware_dir(), checked.firmware)
                except OSError as error:
                    raise BackupRefused(
                        f"{name} cannot be restored: a firmware file could not be written "
                        f"({error}); nothing was changed"
                    ) from None
        except DatabaseRefused as error:
            raise BackupRefused(f"{name} cannot be restored: {error}") from None
    _after_restore()
    result = RestoreResult(
        manifest=checked.manifest,
        rows=sum(counts.values()),
        tables=len(counts),
        firmware_files=len(checked.firmware),
        upgraded=upgraded,
    )
    log.info("restore of %s: %s", name, result.summary())
    return result


def _after_restore() -> None:
    """Caches that held the old rows, and what a newer version adds to every database
    (content types and permissions of models the archive did not have)."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.management.sql import emit_post_migrate_signal

    ContentType.objects.clear_cache()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
