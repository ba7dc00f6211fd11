"""The backups page at /settings/backups/: staff only, since an archive holds every
account's password hash."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fermentrack.web.backups import operations
from fermentrack.web.backups.models import BackupSettings
from fermentrack.web.devices.models import Device

pytestmark = pytest.mark.django_db


def test_back_up_now_writes_an_archive_that_the_list_shows_with_its_counts(admin_client, brewery):
    response = admin_client.post(reverse("backup_create"), follow=True)

    (entry,) = operations.list_backups()
    assert response.status_code == 200
    page = response.content.decode()
    assert entry.name in page
    assert "log points: 500" in page and "devices: 1" in page
    assert "Backed up" in page


def test_a_backup_downloads_as_the_archive_file(admin_client, brewery):
    path, _ = operations.create_backup()

    response = admin_client.get(reverse("backup_download", args=[path.name]))

    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == path.read_bytes()
    assert f'filename="{path.name}"' in response["Content-Disposition"]


def test_only_archives_in_the_backups_folder_can_be_downloaded(admin_client, brewery):
    response = admin_client.get(reverse("backup_download", args=["..%2Ffermentrack.sqlite3"]))

    assert response.status_code == 404


def test_deleting_asks_first_then_removes_the_file(admin_client, brewery):
    path, _ = operations.create_backup()
    url = reverse("backup_delete", args=[path.name])

    asked = admin_client.get(url)
    assert asked.status_code == 200 and "cannot be undone" in asked.content.decode()
    assert path.exists()
    admin_client.post(url)

    assert not path.exists()


def test_uploading_an_archive_restores_it_and_says_what_was_restored(admin_client, brewery):
    path, manifest = operations.create_backup()
    Device.objects.create(name="fridge-2", token_hash="2" * 64)
    upload = SimpleUploadedFile("from-the-old-pi.tar.gz", path.read_bytes())

    response = admin_client.post(reverse("backup_upload"), {"archive": upload, "confirm": "on"})

    page = response.content.decode()
    assert response.status_code == 200, page
    assert "Restored" in page and f"restored {manifest.total_rows} rows" in page
    assert list(Device.objects.values_list("name", flat=True)) == ["fridge-1"]
    assert BackupSettings.load().last_restored_from == "from-the-old-pi.tar.gz"
    assert not [p for p in operations.backups_dir().iterdir() if p.name.startswith(".")]


def test_an_upload_that_is_not_a_backup_is_refused_and_nothing_changes(admin_client, brewery):
    upload = SimpleUploadedFile("holiday.jpg", b"\xff\xd8\xff\xe0 not a backup")

    response = admin_client.post(reverse("backup_upload"), {"archive": upload, "confirm": "on"})

    page = response.content.decode()
    assert response.status_code == 400
    assert "holiday.jpg is not a Fermentrack backup" in page and "Nothing was changed" in page
    assert Device.objects.filter(name="fridge-1").exists()


def test_an_upload_without_the_confirmation_is_not_restored(admin_client, brewery):
    path, _ = operations.create_backup()
    Device.objects.create(name="fridge-2", token_hash="2" * 64)
    upload = SimpleUploadedFile("b.tar.gz", path.read_bytes())

    response = admin_client.post(reverse("backup_upload"), {"archive": upload})

    assert response.status_code == 400
    assert "tick the box" in response.content.decode()
    assert Device.objects.filter(name="fridge-2").exists()


def test_a_listed_archive_is_restored_after_confirming(admin_client, brewery):
    path, _ = operations.create_backup()
    Device.objects.create(name="fridge-2", token_hash="2" * 64)
    url = reverse("backup_restore", args=[path.name])

    asked = admin_client.get(url)
    assert "Everything here is replaced" in asked.content.decode()
    assert Device.objects.filter(name="fridge-2").exists()
    done = admin_client.post(url)

    assert done.status_code == 200
    assert not Device.objects.filter(name="fridge-2").exists()


def test_nightly_backups_are_turned_on_with_how_many_to_keep(admin_client, home):
    response = admin_client.post(reverse("backup_nightly"), {"nightly": "on", "nightly_keep": "5"})

    assert response.status_code == 302
    settings = BackupSettings.load()
    assert settings.nightly and settings.nightly_keep == 5


def test_keeping_no_nightly_backup_is_refused(admin_client, home):
    response = admin_client.post(reverse("backup_nightly"), {"nightly": "on", "nightly_keep": "0"})

    assert response.status_code == 400
    assert "keep at least 1 nightly backup" in response.content.decode()
    assert not BackupSettings.load().nightly


@pytest.mark.parametrize("who", ["brewer_client", "guest_client"])
def test_people_who_are_not_staff_cannot_see_make_or_restore_backups(who, request, brewery):
    client = request.getfixturevalue(who)
    path, _ = operations.create_backup()
    name = path.name
    gets = ["backup_list", ("backup_download", name), ("backup_delete", name)]
    posts = ["backup_create", "backup_nightly", "backup_upload", ("backup_restore", name)]

    def url(target):
        return reverse(target) if isinstance(target, str) else reverse(target[0], args=[target[1]])

    assert all(client.get(url(target)).status_code == 403 for target in gets)
    assert all(client.post(url(target)).status_code == 403 for target in posts)
    assert len(operations.list_backups()) == 1
    assert path.exists()


def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in(anonymous_client, home):
    response = anonymous_client.get(reverse("backup_list"))

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_settings_page_links_to_the_backups(admin_client):
    response = admin_client.get(reverse("brewery_settings"))

    assert reverse("backup_list") in response.content.decode()
