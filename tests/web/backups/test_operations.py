"""Backing up and restoring a home in process, on whichever database the tests run on
(SQLite, and PostgreSQL in CI's second run)."""

from __future__ import annotations

import json
import tarfile

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from fermentrack import __version__, config
from fermentrack.procman.layout import Layout
from fermentrack.web.backups import operations
from fermentrack.web.backups.archive import BackupRefused
from fermentrack.web.backups.database import backed_up_models
from fermentrack.web.backups.models import BackupSettings
from fermentrack.web.beers.models import Annotation, LogPoint
from fermentrack.web.devices.models import Device
from fermentrack.web.devices.watchers import desired_watchers

from .conftest import EEPROM, rebuild

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {m._meta.label_lower: m._base_manager.count() for m in backed_up_models()}


def rows_in(path) -> dict[str, int]:
    """Rows per table as the archive's database files hold them (header line left out)."""
    with tarfile.open(path, "r:gz") as tar:
        return {
            info.name.removeprefix("database/").removesuffix(".jsonl"): (
                tar.extractfile(info).read().count(b"\n") - 1
            )
            for info in tar
            if info.name.startswith("database/")
        }


def test_a_backup_holds_every_model_with_its_row_count_and_the_eeprom_files(brewery, home):
    path, manifest = operations.create_backup()

    assert path.parent == home / "backups"
    assert path.name.startswith("fermentrack-cellar-") and path.name.endswith(".tar.gz")
    assert manifest.fermentrack_version == __version__
    assert manifest.counts == counts() == rows_in(path)
    assert manifest.counts["beers.logpoint"] == 500
    assert manifest.counts["auth.user"] == 1  # so a restored home can log in
    assert "sessions.session" not in manifest.counts
    assert "0001_initial" in manifest.migrations["backups"]
    with tarfile.open(path, "r:gz") as tar:
        assert tar.getnames()[0] == "manifest.json"
        assert tar.extractfile("firmware/fridge-1/eeprom.json").read() == EEPROM
    assert {f.name for f in manifest.files} >= {"firmware/fridge-1/eeprom.json"}
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no leftovers


def test_a_restore_puts_back_the_database_and_eeprom_files_as_they_were(brewery, home):
    path, manifest = operations.create_backup()
    before = counts() | {"backups.backupsettings": 1}  # the restore is recorded there
    user = get_user_model().objects.get()
    Device.objects.create(name="fridge-2", token_hash="1" * 64)
    LogPoint.objects.filter(ts__gt=1_700_000_000 + 30 * 100).delete()
    Annotation.objects.update(text="changed")
    user.set_password("another-password-1")
    user.save()
    eeprom = config.firmware_dir() / "fridge-1" / "eeprom.json"
    eeprom.write_bytes(b"{}")

    result = operations.restore_backup(path)

    assert counts() == before
    assert set(Device.objects.values_list("name", flat=True)) == {"fridge-1"}
    assert Annotation.objects.get().text == "dry hopped"
    assert get_user_model().objects.get().check_password("hop-cone-fermenter-42")
    assert eeprom.read_bytes() == EEPROM
    assert not result.upgraded
    assert result.rows == manifest.total_rows
    assert "restored" in result.summary()


def test_a_firmware_file_that_cannot_be_written_leaves_every_file_and_the_database_as_they_were(
    brewery, home
):
    firmware = config.firmware_dir()
    (firmware / "fridge-2").mkdir()
    (firmware / "fridge-2" / "eeprom.json").write_bytes(EEPROM)
    path, _ = operations.create_backup()
    Annotation.objects.update(text="changed")
    (firmware / "fridge-1" / "eeprom.json").write_bytes(b"{}")
    (firmware / "fridge-2" / "eeprom.json").unlink()
    (firmware / "fridge-2").rmdir()
    (firmware / "fridge-2").write_bytes(b"")  # a file where fridge-2's folder must go

    with pytest.raises(BackupRefused, match=r"fridge-2.*nothing was changed"):
        operations.restore_backup(path)

    assert (firmware / "fridge-1" / "eeprom.json").read_bytes() == b"{}"
    assert Annotation.objects.get().text == "changed"
    assert BackupSettings.load().restore_generation == 0
    assert not [p for p in firmware.rglob(".*")]  # no staged files left behind


def test_new_rows_after_a_restore_get_fresh_ids(brewery, home):
    path, _ = operations.create_backup()
    highest = LogPoint.objects.order_by("-id").values_list("id", flat=True).first()
    operations.restore_backup(path)

    point = LogPoint.objects.create(device=brewery, ts=1_800_000_000)

    assert point.id > highest


def test_a_restore_replaces_every_device_watcher_so_controllers_get_fresh_tokens(brewery, home):
    layout = Layout(home)
    before = {spec.name: spec.fingerprint() for spec in desired_watchers(layout)}
    path, _ = operations.create_backup()

    operations.restore_backup(path)

    after = {spec.name: spec.fingerprint() for spec in desired_watchers(layout)}
    assert set(after) == set(before) == {"dev-fridge-1", "fw-fridge-1"}
    assert all(after[name] != before[name] for name in after)
    assert BackupSettings.load().restore_generation == 1
    assert BackupSettings.load().last_restored_from == path.name


def _refused(path, *words) -> str:
    before = counts()
    with pytest.raises(BackupRefused) as refused:
        operations.restore_backup(path)
    assert counts() == before
    for word in words:
        assert word in str(refused.value)
    return str(refused.value)


def test_an_archive_from_a_newer_version_is_refused_with_one_sentence(brewery, home, tmp_path):
    path, _ = operations.create_backup()
    newer = rebuild(
        path,
        tmp_path / "newer.tar.gz",
        manifest=lambda m: m.update(fermentrack_version="99.3.0"),
    )
    Device.objects.create(name="fridge-2", token_hash="1" * 64)

    message = _refused(newer)

    assert message == (
        f"this backup was made by Fermentrack 99.3.0; this is {__version__}: update first"
    )
    assert Device.objects.filter(name="fridge-2").exists()


def test_an_archive_with_database_changes_this_version_does_not_know_is_refused(
    brewery, home, tmp_path
):
    path, _ = operations.create_backup()
    unknown = rebuild(
        path,
        tmp_path / "unknown.tar.gz",
        manifest=lambda m: m["migrations"]["beers"].append("0099_from_the_future"),
    )

    _refused(unknown, "beers 0099_from_the_future", "update first")


def test_a_damaged_member_is_refused_by_its_checksum(brewery, home, tmp_path):
    path, _ = operations.create_backup()
    damaged = rebuild(
        path,
        tmp_path / "damaged.tar.gz",
        members=lambda name, data: (
            data.replace(b"19.5", b"29.5") if name.endswith("beers.logpoint.jsonl") else data
        ),
    )

    _refused(damaged, "damaged.tar.gz is damaged", "beers.logpoint.jsonl", "checksum")


def test_a_cut_short_archive_is_refused_as_damaged(brewery, home, tmp_path):
    path, _ = operations.create_backup()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    _refused(cut, "cut.tar.gz is damaged")


def test_files_that_are_not_our_archives_are_refused(brewery, home, tmp_path):
    text = tmp_path / "notes.tar.gz"
    text.write_text("hello")
    other = tmp_path / "photos.tar.gz"
    with tarfile.open(other, "w:gz") as tar:
        tar.add(text, arcname="holiday.jpg")

    _refused(text, "notes.tar.gz is not a Fermentrack backup")
    _refused(other, "photos.tar.gz is not a Fermentrack backup")


def test_an_older_archive_missing_a_newer_app_is_migrated_forward_and_loads(
    brewery, home, tmp_path
):
    """As if made before the backups app existed: loaded into a temporary database at the
    archive's migrations, migrated to this version, then copied in."""
    path, _ = operations.create_backup()

    def before_backups_app(m):
        del m["migrations"]["backups"]
        del m["counts"]["backups.backupsettings"]
        m["files"] = [f for f in m["files"] if "backups.backupsettings" not in f["name"]]

    older = rebuild(
        path,
        tmp_path / "older.tar.gz",
        manifest=before_backups_app,
        leave_out="database/backups.backupsettings.jsonl",
    )
    before = {k: v for k, v in counts().items() if k != "backups.backupsettings"}
    LogPoint.objects.all().delete()

    result = operations.restore_backup(older)

    assert result.upgraded
    assert {k: v for k, v in counts().items() if k != "backups.backupsettings"} == before
    assert BackupSettings.load().restore_generation == 1


def test_nightly_backups_keep_the_last_n_and_never_prune_hand_made_ones(brewery, home):
    assert operations.nightly_backup() is None  # off by default
    assert operations.list_backups() == []
    settings = BackupSettings.load()
    settings.nightly, settings.nightly_keep = True, 2
    settings.save()
    by_hand, _ = operations.create_backup()

    made = [operations.nightly_backup()[0] for _ in range(4)]

    left = {entry.path for entry in operations.list_backups()}
    assert left == {by_hand, made[-1], made[-2]}


def test_the_archive_list_reads_each_manifest_and_says_what_is_wrong_with_others(brewery, home):
    path, manifest = operations.create_backup()
    broken = path.with_name("fermentrack-cellar-20200101-000000.tar.gz")
    broken.write_bytes(b"not an archive")

    entries = {entry.name: entry for entry in operations.list_backups()}

    assert entries[path.name].manifest.counts == manifest.counts
    assert ("log points", 500) in entries[path.name].summary
    assert "is not a Fermentrack backup" in entries[broken.name].problem


def test_every_table_of_every_app_is_in_the_backup():
    labels = {model._meta.label_lower for model in backed_up_models()}
    for app in ("brewery", "devices", "beers", "profiles", "gravity", "backups", "auth"):
        assert any(label.startswith(app + ".") for label in labels), app
    assert "auth.user_groups" in labels  # many-to-many tables too
    assert (
        len(labels)
        == len([m for m in apps.get_models(include_auto_created=True) if m._meta.managed]) - 1
    )  # sessions
    assert json.dumps(sorted(labels))
