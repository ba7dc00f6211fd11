"""A beer's brew log: what the brewer did and when ("pitched yeast", "dry hopped with 100 g
Citra"), each entry a person's annotation at its time on the beer's chamber, so the graph marks
it among the firmware's and the controller's notes and the CSV export carries it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from fermentrack.web.beers.models import Annotation, AnnotationSource, Beer

FUTURE_SLACK_S = 60  # a clock a little ahead is not a note about the future
MOMENT_FORMAT = "%Y-%m-%d %H:%M"


def local_moment(ts: int) -> str:
    return timezone.localtime(datetime.fromtimestamp(ts, UTC)).strftime(MOMENT_FORMAT)


class BrewLogForm(forms.Form):
    """One entry; its time in the brewery's time zone (the view makes it the current one)."""

    text = forms.CharField(
        max_length=500,
        label="What happened",
        help_text="e.g. dry hopped with 100 g Citra; it is marked on the graph at its time",
    )
    at = forms.DateTimeField(
        required=False,
        label="When",
        help_text="leave empty for now",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", MOMENT_FORMAT],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, beer: Beer, now: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.beer = beer
        self.now = now
        if beer.ended_at is not None:
            self.fields["at"].required = True
            self.fields["at"].help_text = (
                f"between {local_moment(beer.started_at)} and {local_moment(beer.ended_at)}, "
                "when the beer was logged"
            )

    def clean_text(self) -> str:
        text = self.cleaned_data["text"]
        if any(ord(char) < 32 for char in text):
            raise forms.ValidationError("an entry is one line of text: no tabs or line breaks")
        return text

    def clean_at(self) -> int:
        at = self.cleaned_data["at"]
        ts = self.now if at is None else int(at.timestamp())
        last = self.beer.ended_at if self.beer.ended_at is not None else self.now
        if not self.beer.started_at <= ts <= last + FUTURE_SLACK_S:
            until = "now" if self.beer.ended_at is None else local_moment(last)
            raise forms.ValidationError(
                f"{local_moment(ts)} is outside the beer: an entry must fall between its start, "
                f"{local_moment(self.beer.started_at)}, and {until}"
            )
        return ts


@dataclass(frozen=True)
class Entry:
    pk: int
    moment: datetime
    text: str
    by: str


def entries_of(beer: Beer) -> QuerySet[Annotation]:
    """The people's annotations within the beer's time on its chamber."""
    found = Annotation.objects.filter(
        device=beer.device, source=AnnotationSource.PERSON, ts__gte=beer.started_at
    )
    if beer.ended_at is not None:
        found = found.filter(ts__lte=beer.ended_at)
    return found.order_by("ts", "id")


def brew_log(beer: Beer) -> list[Entry]:
    return [
        Entry(
            pk=note.pk,
            moment=datetime.fromtimestamp(note.ts, UTC),
            text=note.text,
            by=note.created_by.get_username() if note.created_by else "",
        )
        for note in entries_of(beer).select_related("created_by")
    ]
