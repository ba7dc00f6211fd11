"""Forms of the beers app: rename a beer and edit its notes."""

from __future__ import annotations

from django import forms

from fermentrack.web.beers.models import Beer, beer_name_problem


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
