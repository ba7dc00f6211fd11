"""`fermentrack backup` and `fermentrack restore` as a brewer runs them: real processes on
homes of their own (SQLite), a fresh home restored from another's archive, a backup taken
while a writer keeps inserting, refusals that change nothing, and the nightly backup."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest
from crontab import CronTab

from fermentrack import __version__
from fermentrack.procman import cron
from fermentrack.procman.layout import Layout

EEPROM = b'{"format_version": 1, "settings": {"mode": "f"}}\n'
NOT_DATA = {"django_migrations", "django_session", "backups_backupsettings"}


def fermentrack(home: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "FERMENTRACK_HOME": str(home)}
    env.pop("DATABASE_URL", None)  # these run on the home's own SQLite
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "fermentrack.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        **kwargs,
    )


def django_code(home: Path, code: str) -> subprocess.CompletedProcess:
    done = fermentrack(home, "manage", "shell", "-c", textwrap.dedent(code))
    assert done.returncode == 0, done.stderr
    return done


def table_counts(home: Path) -> dict[str, int]:
    with sqlite3.connect(home / "fermentrack.sqlite3") as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not name.startswith("sqlite_") and name not in NOT_DATA
        ]
        return {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def archive_rows(path: Path) -> tuple[dict, dict[str, int]]:
    """(manifest, rows per table as the archive's files hold them)."""
    with tarfile.open(path, "r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        rows = {
            i.name[len("database/") : -len(".jsonl")]: tar.extractfile(i).read().count(b"\n") - 1
            for i in tar
            if i.name.startswith("database/")
        }
    return manifest, rows


@pytest.fixture(scope="module")
def brewed(tmp_path_factory) -> Path:
    """A home with a simulated chamber, readings, a beer, people, and its EEPROM file."""
    home = tmp_path_factory.mktemp("brewed")
    assert fermentrack(home, "device", "add", "sim-1", "--simulated").returncode == 0
    django_code(
        home,
        """
        from django.contrib.auth import get_user_model
        from fermentrack.web.beers.models import Beer, LogPoint
        from fermentrack.web.devices.models import Device
        device = Device.objects.get(name="sim-1")
        LogPoint.objects.bulk_create(
            LogPoint(device=device, ts=1_700_000_000 + 30 * i, beer_temp=19.0 + i % 7 / 10)
            for i in range(20_000)
        )
        Beer.objects.create(name="Dunkel", device=device, started_at=1_700_000_000)
        get_user_model().objects.create_superuser("admin", "a@example.com", "hop-cone-42-x")
        get_user_model().objects.create_user("brewer", "b@example.com", "hop-cone-42-y")
        """,
    )
    eeprom = home / "firmware" / "sim-1" / "eeprom.json"
    eeprom.parent.mkdir(parents=True)
    eeprom.write_bytes(EEPROM)
    return home


def test_backup_then_restore_into_a_fresh_home_gives_the_same_rows_and_eeprom_files(
    brewed, tmp_path
):
    made = fermentrack(brewed, "backup", "--to", str(tmp_path / "usb"))
    assert made.returncode == 0, made.stderr
    archive = Path(made.stdout.splitlines()[0])
    assert archive.parent == tmp_path / "usb" and archive.is_file()
    assert "beers.logpoint: 20000" in made.stdout
    fresh = tmp_path / "fresh-home"

    restored = fermentrack(fresh, "restore", str(archive))

    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith("restored ")
    assert table_counts(fresh) == table_counts(brewed)
    assert (fresh / "firmware" / "sim-1" / "eeprom.json").read_bytes() == EEPROM
    login = django_code(
        fresh,
        """
        from django.contrib.auth import authenticate
        print(authenticate(username="admin", password="hop-cone-42-x") is not None)
        """,
    )
    assert login.stdout.strip().splitlines()[-1] == "True"


def test_a_backup_taken_while_a_writer_inserts_is_one_consistent_moment(brewed, tmp_path):
    """The writer adds a note and a gravity reading in each transaction; their tables are
    read on either side of 20,000 log points, so only a snapshot keeps them equal."""
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fermentrack.cli",
            "manage",
            "shell",
            "-c",
            textwrap.dedent(
                f"""
                import os, time
                from django.db import transaction
                from fermentrack.web.beers.models import Annotation
                from fermentrack.web.devices.models import Device
                from fermentrack.web.gravity.models import GravityReading, GravitySensor
                device = Device.objects.get(name="sim-1")
                sensor = GravitySensor.objects.create(name="Pen", kind="manual")
                ts = 1_800_000_000
                while not os.path.exists({str(stop)!r}):
                    ts += 1
                    with transaction.atomic():
                        Annotation.objects.create(device=device, ts=ts, text="x", source="user")
                        GravityReading.objects.create(sensor=sensor, ts=ts, gravity=1.01)
                    time.sleep(0.001)
                """
            ),
        ],
        env={**os.environ, "FERMENTRACK_HOME": str(brewed)} | {"DATABASE_URL": ""},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def written() -> int:
            with sqlite3.connect(brewed / "fermentrack.sqlite3") as db:
                return db.execute("SELECT COUNT(*) FROM gravity_gravityreading").fetchone()[0]

        deadline = time.monotonic() + 60
        while written() < 20:
            assert writer.poll() is None, writer.stderr.read()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        before = written()
        made = fermentrack(brewed, "backup", "--to", str(tmp_path))
        after = written()
    finally:
        stop.touch()
        writer.wait(timeout=30)
    assert writer.returncode == 0, writer.stderr.read()
    assert made.returncode == 0, made.stderr
    manifest, rows = archive_rows(Path(made.stdout.splitlines()[0]))
    assert manifest["counts"] == rows
    assert rows["beers.annotation"] == rows["gravity.gravityreading"]
    assert before <= rows["gravity.gravityreading"] <= after
    assert after > before  # the writer was not held up by the backup


def test_an_archive_from_a_newer_version_is_refused_with_exit_2_and_changes_nothing(
    brewed, tmp_path
):
    made = fermentrack(brewed, "backup", "--to", str(tmp_path))
    original = Path(made.stdout.splitlines()[0])
    newer = tmp_path / "newer.tar.gz"
    with tarfile.open(original, "r:gz") as source, tarfile.open(newer, "w:gz") as target:
        for info in source:
            data = source.extractfile(info).read()
            if info.name == "manifest.json":
                data = data.replace(f'"{__version__}"'.encode(), b'"0.3.0"')
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    before = table_counts(brewed)

    refused = fermentrack(brewed, "restore", str(newer))

    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"fermentrack restore: this backup was made by Fermentrack 0.3.0; this is "
        f"{__version__}: update first"
    ]
    assert table_counts(brewed) == before


def test_a_file_that_is_not_a_backup_is_refused_with_one_line(brewed, tmp_path):
    other = tmp_path / "recipe.txt"
    other.write_text("2 kg Munich malt\n")

    refused = fermentrack(brewed, "restore", str(other))

    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "fermentrack restore: recipe.txt is not a Fermentrack backup "
        "(expected a .tar.gz made by Fermentrack)"
    )


def test_the_nightly_backup_does_nothing_when_off_and_keeps_the_last_n_when_on(tmp_path):
    home = tmp_path / "nightly"
    off = fermentrack(home, "backup", "--nightly")
    assert (off.returncode, off.stdout, off.stderr) == (0, "", "")
    assert not list(home.glob("backups/*.tar.gz"))
    by_hand = Path(fermentrack(home, "backup").stdout.splitlines()[0])
    django_code(
        home,
        """
        from fermentrack.web.backups.models import BackupSettings
        BackupSettings.objects.update_or_create(pk=1, defaults={"nightly": True, "nightly_keep": 2})
        """,
    )

    for _ in range(3):
        night = fermentrack(home, "backup", "--nightly")
        assert (night.returncode, night.stdout, night.stderr) == (0, "", "")

    archives = sorted((home / "backups").glob("*.tar.gz"))
    assert len(archives) == 3 and by_hand in archives
    nightly = [a for a in archives if archive_rows(a)[0]["nightly"]]
    assert len(nightly) == 2
    assert "nightly backup" in (home / "log" / "backup-nightly.log").read_text()


def test_add2cron_adds_the_nightly_backup_line_once(tmp_path):
    tab_file = tmp_path / "crontab"
    tab_file.write_text("0 3 * * * /usr/bin/backup-my-photos\n")
    layout = Layout(tmp_path / "home")

    cron.add_to_cron(layout, CronTab(tabfile=str(tab_file)))
    again = cron.add_to_cron(layout, CronTab(tabfile=str(tab_file)))

    lines = tab_file.read_text().splitlines()
    nightly = [line for line in lines if " backup --nightly" in line]
    assert len(nightly) == 1 and again == []
    assert nightly[0].startswith(f"{cron.NIGHTLY_BACKUP_SCHEDULE} FERMENTRACK_HOME=")
    assert str(layout.home) in nightly[0]
    assert "0 3 * * * /usr/bin/backup-my-photos" in lines
