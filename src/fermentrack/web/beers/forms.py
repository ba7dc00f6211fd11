"""Forms of the beers app: rename a beer and edit its notes, set its original gravity."""

from __future__ import annotations

import math

from django import forms

from fermentrack.gravity.hygiene import GRAVITY_LIMITS
from fermentrack.web.beers.models import Beer, beer_name_problem

HIGHEST_GRAVITY = GRAVITY_LIMITS[1]


class BeerForm(forms.ModelForm):
    class Meta:
        model = Beer
        fields = ["name", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 6})}
        help_texts = {"name": "letters, digits, spaces, '-' and '_'; unique on its device"}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        problem = beer_name_problem(name)
        if problem:
            raise forms.ValidationError(problem)
        taken = Beer.objects.filter(device=self.instance.device, name=name)
        if taken.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(
                f"{self.instance.device.name} already has a beer named {name!r}; "
                "choose another name"
            )
        return name

    def validate_unique(self) -> None:
        """clean_name already said, in our words, when the name is taken."""


class OriginalGravityForm(forms.ModelForm):
    """The beer's original gravity, measured by hand; blank when not known."""

    class Meta:
        model = Beer
        fields = ["original_gravity"]
        labels = {"original_gravity": "Original gravity (SG)"}
        help_texts = {"original_gravity": "measured before fermentation, e.g. 1.052"}
        widgets = {
            "original_gravity": forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"})
        }

    def clean_original_gravity(self) -> float | None:
        value = self.cleaned_data["original_gravity"]
        if value is None:
            return None
        if not (math.isfinite(value) and 1.0 < value <= HIGHEST_GRAVITY):
            raise forms.ValidationError(
                f"an original gravity of {value:g} is not a wort's: expected above 1.000 and "
                f"at most {HIGHEST_GRAVITY:.3f} SG"
            )
        return value
