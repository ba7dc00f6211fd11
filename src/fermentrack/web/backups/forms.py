"""Forms of the backups page: the nightly backup, and uploading an archive to restore."""

from __future__ import annotations

from django import forms

from fermentrack.web.backups.models import BackupSettings


class NightlyForm(forms.ModelForm):
    class Meta:
        model = BackupSettings
        fields = ["nightly", "nightly_keep"]
        error_messages = {
            "nightly_keep": {
                "min_value": "keep at least 1 nightly backup",
                "max_value": "keep at most %(limit_value)s nightly backups",
                "invalid": "expected a whole number of backups to keep, such as 7",
            }
        }

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class UploadForm(forms.Form):
    archive = forms.FileField(
        label="Backup file",
        help_text="a .tar.gz made by Fermentrack's “Back up now” or `fermentrack backup`",
        error_messages={"required": "choose the backup file to restore"},
    )
    confirm = forms.BooleanField(
        label="Replace everything here with this backup",
        help_text="devices, beers and their readings, profiles, gravity, settings and people",
        error_messages={"required": "tick the box to confirm that everything here is replaced"},
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
