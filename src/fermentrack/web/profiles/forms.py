"""Forms of the profiles app: the profile editor (details and points table), copy, import, start.

The points table takes each point's time either as an offset from the start ("3d 12h", or plain
days "3.5") or as a date and time in the brewery's time zone; both end up as offset_s. A point
may carry a hold: its temperature is kept until the gravity is low enough or steady, within a
time limit (fermentrack.gravity.holds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from django import forms
from django.db import transaction

from fermentrack.brewpi.profile_schedule import Point, format_offset, parse_offset
from fermentrack.gravity.holds import GRAVITY_AT_MOST, GRAVITY_STABLE, Hold
from fermentrack.web.devices.models import Device
from fermentrack.web.profiles import formats
from fermentrack.web.profiles.models import MAX_POINTS, FermentationProfile, point_problems

OFFSETS, DATES = "offsets", "dates"
DATE_EXAMPLE = "2025-05-01 18:00"
BLANK_ROWS = 3  # empty rows under the points, so a plain form (no JavaScript) can add points


def parse_local_datetime(text: str, zone: tzinfo) -> datetime:
    """A date and time such as 2025-05-01 18:00 (or 2025-05-01) in `zone`, made aware."""
    cleaned = (text or "").strip()
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"{text!r} is not a date and time: write it like {DATE_EXAMPLE}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


def _unique_name_problem(name: str, instance: FermentationProfile | None = None) -> str | None:
    taken = FermentationProfile.objects.filter(name=name)
    if instance is not None and instance.pk:
        taken = taken.exclude(pk=instance.pk)
    if taken.exists():
        return f"a profile named {name!r} already exists; choose another name"
    return None


# -- the points table ------------------------------------------------------------------------


@dataclass
class PointTable:
    """The points read from the table, and what is wrong with it (each problem says its row)."""

    points: list[Point] = field(default_factory=list)
    holds: dict[int, Hold] = field(default_factory=dict)  # by the offset of their point
    problems: list[str] = field(default_factory=list)
    row_problems: dict[int, list[str]] = field(default_factory=dict)  # row index -> problems


def read_point_table(
    rows: list[tuple[str, ...]], unit: str, entry: str, start_text: str, zone: tzinfo
) -> PointTable:
    """Read (time, temperature[, the hold's five cells]) text rows; blank rows are skipped,
    rows count from 1. The hold cells are those of `formats.read_hold`.

    `entry` says how the times are written: OFFSETS ("3d 12h") or DATES, counted from
    `start_text` (a date and time), or from the first row's date when that is empty.
    """
    table = PointTable()
    start: datetime | None = None
    if entry == DATES and start_text.strip():
        try:
            start = parse_local_datetime(start_text, zone)
        except ValueError as error:
            table.problems.append(f"start: {error}")
            return table
    readable: list[tuple[str, int, float]] = []
    holds: dict[str, Hold] = {}
    row_of_label: dict[str, int] = {}
    for index, (when, temperature_text, *hold_texts) in enumerate(rows):
        label = f"row {index + 1}"
        row_of_label[label] = index
        if not when.strip() and not temperature_text.strip() and not "".join(hold_texts).strip():
            continue
        problems = []
        hold, hold_errors = formats.read_hold(*hold_texts) if hold_texts else (None, [])
        problems.extend(f"{label}: {problem}" for problem in hold_errors)
        offset = temperature = None
        if not when.strip():
            example = DATE_EXAMPLE if entry == DATES else "3d 12h"
            problems.append(f"{label}: the time is missing: write it like {example}")
        elif entry == DATES:
            try:
                moment = parse_local_datetime(when, zone)
                start = start or moment
                # Timestamps, not datetime subtraction: that ignores a DST change in one zone.
                offset = round(moment.timestamp() - start.timestamp())
                if offset < 0:
                    problems.append(
                        f"{label}: {when.strip()} is before the start {_date(start, zone)}"
                    )
            except ValueError as error:
                problems.append(f"{label}: {error}")
        else:
            try:
                offset = parse_offset(when)
            except ValueError as error:
                problems.append(f"{label}: {error}")
        if not temperature_text.strip():
            problems.append(f"{label}: the temperature is missing: write it like 18.5")
        else:
            try:
                temperature = formats.parse_temperature(temperature_text)
            except ValueError as error:
                problems.append(f"{label}: {error}")
        if problems:
            table.problems.extend(problems)
        else:
            readable.append((label, offset, temperature))
            if hold is not None:
                holds[label] = hold
    if readable or not table.problems:
        describe = format_offset
        if entry == DATES and start is not None:
            describe = _dates_from(start, zone)
        table.problems.extend(point_problems(readable, unit, describe))
    for problem in table.problems:
        label = problem.split(":", 1)[0]
        if label in row_of_label:
            table.row_problems.setdefault(row_of_label[label], []).append(problem)
    table.points = [(offset, temperature) for _, offset, temperature in readable]
    table.holds = {offset: holds[label] for label, offset, _ in readable if label in holds}
    return table


def _date(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _dates_from(start: datetime, zone: tzinfo):
    """Shows an offset as the date it falls on, for messages about a table of dates."""
    return lambda offset: _date(datetime.fromtimestamp(start.timestamp() + offset, zone), zone)


class PointForm(forms.Form):
    """One row of the points table; read as a whole by `read_point_table`."""

    when = forms.CharField(
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"class": "point-when", "placeholder": "3d 12h"}),
    )
    temperature = forms.CharField(
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"class": "point-temperature", "inputmode": "decimal", "placeholder": "18.5"}
        ),
    )
    # Text behind a select, so that an unknown choice is reported by read_hold in its words.
    hold_until = forms.CharField(
        label="Then hold",
        required=False,
        max_length=20,
        widget=forms.Select(
            attrs={"class": "hold-until"},
            choices=[
                ("", "no hold"),
                (GRAVITY_AT_MOST, "until gravity ≤"),
                (GRAVITY_STABLE, "until gravity is steady"),
            ],
        ),
    )
    hold_gravity = forms.CharField(
        label="Gravity",
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"class": "hold-gravity", "inputmode": "decimal", "placeholder": "1.012"}
        ),
    )
    hold_tolerance = forms.CharField(
        label="Within ± points",
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"class": "hold-tolerance", "inputmode": "decimal", "placeholder": "2"}
        ),
    )
    hold_for = forms.CharField(
        label="For",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"class": "hold-for", "placeholder": "1d"}),
    )
    hold_max = forms.CharField(
        label="At most",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"class": "hold-max", "placeholder": "3d"}),
    )

    HOLD_FIELDS = ("hold_until", "hold_gravity", "hold_tolerance", "hold_for", "hold_max")

    def cells(self) -> tuple[str, ...]:
        """The row as read_point_table reads it: time, temperature, the hold's five cells."""
        data = self.cleaned_data
        return tuple(data.get(name) or "" for name in ("when", "temperature", *self.HOLD_FIELDS))


PointFormSet = forms.formset_factory(
    PointForm, extra=BLANK_ROWS, max_num=MAX_POINTS, absolute_max=MAX_POINTS + BLANK_ROWS
)


class ProfileForm(forms.ModelForm):
    entry = forms.ChoiceField(
        label="Times are",
        choices=[(OFFSETS, "offsets from the start (3d 12h)"), (DATES, "dates and times")],
        initial=OFFSETS,
        widget=forms.RadioSelect,
    )
    start = forms.CharField(
        label="Start (for dates)",
        required=False,
        max_length=40,
        help_text=f"the date the dates count from, like {DATE_EXAMPLE}; "
        "empty: the first point's date",
    )

    class Meta:
        model = FermentationProfile
        fields = ["name", "temp_format", "notes"]
        labels = {"temp_format": "Temperatures in"}
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        problem = _unique_name_problem(name, self.instance)
        if problem:
            raise forms.ValidationError(problem)
        return name

    def validate_unique(self) -> None:
        """clean_name already said, in our words, when the name is taken."""


class ProfileEditor:
    """The profile form and its points table, checked and saved together."""

    def __init__(
        self, data=None, *, instance: FermentationProfile | None = None, zone: tzinfo, unit="C"
    ) -> None:
        self.zone = zone
        self.instance = instance
        initial_unit = instance.temp_format if instance else unit
        self.form = ProfileForm(data, instance=instance, initial={"temp_format": initial_unit})
        rows = []
        if instance is not None and instance.pk:
            holds = instance.hold_list()
            rows = [
                {"when": format_offset(offset), "temperature": f"{temperature:g}"}
                | dict(
                    zip(
                        PointForm.HOLD_FIELDS,
                        formats.hold_cells(holds.get(offset)),
                        strict=True,
                    )
                )
                for offset, temperature in instance.point_list()
            ]
        self.table = PointFormSet(data, initial=rows, prefix="points")
        self.result = PointTable()

    def is_valid(self) -> bool:
        details_valid = self.form.is_valid()
        if not self.table.is_valid():
            # Only the hidden management fields can be wrong: every cell is optional text.
            self.result.problems = [str(error) for error in self.table.non_form_errors()]
            return False
        data = self.form.cleaned_data
        unit = data.get("temp_format") or (self.instance.temp_format if self.instance else "C")
        rows = [form.cells() for form in self.table.forms]
        self.result = read_point_table(
            rows, unit, data.get("entry") or OFFSETS, data.get("start", ""), self.zone
        )
        for index, problems in self.result.row_problems.items():
            self.table.forms[index].row_problems = problems
        return details_valid and not self.result.problems

    def save(self) -> FermentationProfile:
        with transaction.atomic():
            profile = self.form.save()
            profile.replace_points(self.result.points, self.result.holds)
        return profile


# -- copy, import, start ---------------------------------------------------------------------


class CopyProfileForm(forms.Form):
    name = forms.CharField(label="Name of the copy", max_length=128)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        problem = _unique_name_problem(name)
        if problem:
            raise forms.ValidationError(problem)
        return name


class ImportProfileForm(forms.Form):
    file = forms.FileField(
        required=False, help_text="a .csv or .json file exported from a profile's page"
    )
    text = forms.CharField(
        label="or paste it here",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )
    name = forms.CharField(
        label="Name", required=False, max_length=128, help_text="empty: the name in the file"
    )

    def clean(self):
        data = super().clean()
        upload, text = data.get("file"), data.get("text") or ""
        if upload is not None:
            if upload.size > formats.MAX_FILE_BYTES:
                raise forms.ValidationError(
                    f"the file is {upload.size // 1024} kB; a profile file is at most "
                    f"{formats.MAX_FILE_BYTES // 1024} kB"
                )
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(
                    "the file is not UTF-8 text: export it again, or paste its text instead"
                ) from None
        if not text.strip():
            raise forms.ValidationError("choose a profile file, or paste its text")
        if len(text.encode()) > formats.MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"the text is longer than a profile file may be ({formats.MAX_FILE_BYTES // 1024}"
                " kB)"
            )
        try:
            self.profile_file = formats.read_profile_file(text, name=data.get("name", ""))
        except formats.ProfileFileError as error:
            raise forms.ValidationError(error.problems) from None
        problem = _unique_name_problem(self.profile_file.name)
        if problem:
            self.add_error("name", problem)
        return data

    def save(self) -> FermentationProfile:
        imported = self.profile_file
        with transaction.atomic():
            profile = FermentationProfile.objects.create(
                name=imported.name, temp_format=imported.unit, notes=imported.notes
            )
            profile.replace_points(imported.points, imported.holds)
        return profile


_FROM_THE_BEGINNING = {"", "0", "beginning", "the beginning", "from the beginning", "start"}
_AT_POINT = re.compile(r"^(?:at\s+)?point\s*#?\s*(\d+)$")
START_AT_EXAMPLE = "'from the beginning', 'at point 3', or an offset like '2d 6h'"


def start_offset(text: str, points: list[Point]) -> int:
    """Seconds into the profile to start at: the beginning, a point's time, or an offset."""
    cleaned = " ".join((text or "").lower().split())
    if cleaned in _FROM_THE_BEGINNING:
        return 0
    at_point = _AT_POINT.match(cleaned)
    if at_point:
        number = int(at_point.group(1))
        if not 1 <= number <= len(points):
            raise ValueError(
                f"there is no point {number}: this profile has points 1 to {len(points)}"
            )
        return points[number - 1][0]
    try:
        offset = parse_offset(cleaned)
    except ValueError:
        raise ValueError(f"{text!r} is not a place to start: write {START_AT_EXAMPLE}") from None
    end = points[-1][0] if points else 0
    if offset > end:
        raise ValueError(
            f"{format_offset(offset)} is past the profile's last point at {format_offset(end)}: "
            "start there or earlier"
        )
    return offset


class StartProfileForm(forms.Form):
    device = forms.CharField(widget=forms.Select, help_text="the chamber to run the profile on")
    start_at = forms.CharField(
        label="Start",
        required=False,
        initial="from the beginning",
        max_length=40,
        help_text=f"{START_AT_EXAMPLE} (the start is back-dated by that much)",
    )

    def __init__(self, *args, profile: FermentationProfile, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.profile = profile
        self.points = profile.point_list()
        names = list(Device.objects.values_list("name", flat=True))
        self.fields["device"].widget.choices = [(name, name) for name in names]

    def clean_device(self) -> Device:
        name = self.cleaned_data["device"]
        device = Device.objects.filter(name=name).first()
        if device is None:
            raise forms.ValidationError(f"there is no device named {name!r}; choose one listed")
        return device

    def clean_start_at(self) -> int:
        if not self.points:
            raise forms.ValidationError("this profile has no points yet: add some first")
        try:
            return start_offset(self.cleaned_data.get("start_at", ""), self.points)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
