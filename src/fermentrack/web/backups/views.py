"""The backups page (staff only: an archive holds every account's password hash): list,
back up now, download, delete, nightly settings, and restore from a listed or uploaded file."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from fermentrack.web.backups import operations
from fermentrack.web.backups.archive import BackupRefused
from fermentrack.web.backups.forms import NightlyForm, UploadForm
from fermentrack.web.backups.models import BackupSettings
from fermentrack.web.brewery.access import people_required

log = logging.getLogger(__name__)


def _page(request, *, nightly_form=None, upload_form=None, status=200, **context):
    settings = BackupSettings.load()
    context |= {
        "entries": operations.list_backups(),
        "nightly_form": nightly_form or NightlyForm(instance=settings),
        "upload_form": upload_form or UploadForm(),
        "settings": settings,
        "folder": operations.backups_dir(),
    }
    return render(request, "backups/backup_list.html", context, status=status)


@people_required
def backup_list(request):
    return _page(request)


@people_required
@require_POST
def backup_create(request):
    try:
        path, manifest = operations.create_backup()
    except (BackupRefused, OSError) as error:
        log.warning("backup from the page failed: %s", error)
        messages.error(request, f"The backup could not be written: {error}")
    else:
        messages.success(
            request, f"Backed up {manifest.total_rows} rows and the firmware files as {path.name}."
        )
    return redirect("backup_list")


@people_required
@require_POST
def backup_nightly(request):
    form = NightlyForm(request.POST, instance=BackupSettings.load())
    if not form.is_valid():
        return _page(request, nightly_form=form, status=400)
    form.save()
    if form.instance.nightly:
        messages.success(
            request, f"Nightly backups on, keeping the last {form.instance.nightly_keep}."
        )
    else:
        messages.success(request, "Nightly backups off.")
    return redirect("backup_list")


def _entry(name: str) -> Path:
    try:
        return operations.backup_path(name)
    except BackupRefused as error:
        raise Http404(str(error)) from None


@people_required
def backup_download(request, name: str):
    path = _entry(name)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=path.name)


@people_required
def backup_delete(request, name: str):
    path = _entry(name)
    if request.method == "POST":
        path.unlink(missing_ok=True)
        log.info("backup %s deleted by %s", path.name, request.user.username)
        messages.success(request, f"Deleted {path.name}.")
        return redirect("backup_list")
    return render(request, "backups/backup_confirm.html", {"name": path.name, "action": "delete"})


def _restore(request, path: Path, shown_as: str):
    try:
        result = operations.restore_backup(path, shown_as=shown_as)
    except BackupRefused as error:
        log.warning("restore of %s refused: %s", shown_as, error)
        return None, str(error)
    log.info("%s restored %s: %s", request.user.username, shown_as, result.summary())
    return result, ""


@people_required
def backup_restore(request, name: str):
    path = _entry(name)
    if request.method != "POST":
        try:
            manifest = operations.archive.read_manifest(path)
        except BackupRefused as error:
            manifest, problem = None, str(error)
        else:
            problem = ""
        context = {"name": path.name, "action": "restore", "manifest": manifest, "problem": problem}
        return render(request, "backups/backup_confirm.html", context)
    result, refused = _restore(request, path, path.name)
    return _outcome(request, path.name, result, refused)


def _outcome(request, name, result, refused):
    context = {"name": name, "result": result, "refused": refused}
    return render(request, "backups/restored.html", context, status=400 if refused else 200)


class _ToBackupsFolder(FileUploadHandler):
    """An uploaded archive goes straight to a temporary file in the backups folder, on the
    home's disk (not in memory, nor in a /tmp that may be RAM on a Pi)."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        folder = operations.backups_dir()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.file = tempfile.NamedTemporaryFile(dir=folder, prefix=".upload-", suffix=".tar.gz")  # noqa: SIM115

    def receive_data_chunk(self, raw_data, start):
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.file.flush()
        self.file.seek(0)
        return UploadedFile(self.file, self.file_name, self.content_type, file_size, self.charset)


@csrf_exempt  # checked below, once the upload handler is in place (Django's documented way)
@people_required
@require_POST
def backup_upload(request):
    request.upload_handlers = [_ToBackupsFolder(request)]
    return _upload(request)


@csrf_protect
def _upload(request):
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, upload_form=form, status=400)
    upload = form.cleaned_data["archive"]
    try:
        result, refused = _restore(request, Path(upload.file.name), Path(upload.name).name)
    finally:
        upload.close()  # the temporary file goes with it
    return _outcome(request, Path(upload.name).name, result, refused)
