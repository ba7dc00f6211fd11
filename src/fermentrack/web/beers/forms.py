"""Forms of the beers app: rename a beer and edit its notes."""

from __future__ import annotations

import re

from django import forms

from fermentrack.web.beers.models import Beer

# Letters (any script), digits, spaces, '-' and '_', 1 to 255 of them (web contract 3).
BEER_NAME = re.compile(r"[\w -]{1,255}")


def beer_name_problem(name: str) -> str | None:
    """Why `name` cannot name a beer, or None when it can."""
    if not name:
        return "the beer needs a name"
    if len(name) > 255:
        return f"the name is {len(name)} characters long; at most 255 fit"
    if not BEER_NAME.fullmatch(name):
        wrong = sorted({char for char in name if not BEER_NAME.fullmatch(char)})
        return (
            f"{name!r} has {' '.join(wrong)} in it: a beer name may hold letters, digits, "
            "spaces, '-' and '_'"
        )
    return None


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
