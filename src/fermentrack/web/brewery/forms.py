"""Forms of the brewery app: the first admin, the brewery's settings, people, the log page."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import RegexValidator

from fermentrack.web.brewery import logs
from fermentrack.web.brewery.models import (
    BREWER,
    DEFAULT_GRAPH_COLOURS,
    GRAPH_SERIES_LABELS,
    ROLES,
    BrewerySettings,
    time_zone_names,
)

_USERNAME_HELP = "Up to 150 letters, digits and @ . + - _ (no spaces)."
_username_validator = UnicodeUsernameValidator(
    message="a username may hold only letters, digits and @ . + - _ (no spaces)"
)
_ROLES_HELP = (
    "A brewer runs devices, beers and profiles; a guest sees them and changes nothing; an "
    "admin also manages people."
)
_hex_colour = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", message="expected a colour as #rrggbb, such as #e3b505"
)


class _PlainLabels:
    """Labels stand above their fields (site.css), so they need no trailing colon."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class PasswordPairForm(_PlainLabels, forms.Form):
    """A password typed twice, checked against Django's password validators."""

    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
        help_text="At least 8 characters; not only digits, not a common password.",
    )
    password_again = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )

    def user_for_password_check(self):
        """The account the password is for, so validators can refuse one like its username."""
        return None

    def clean(self):
        data = super().clean()
        password = data.get("password")
        if password and password != data.get("password_again"):
            self.add_error("password_again", "the two passwords differ: type the same one twice")
        elif password:
            try:
                password_validation.validate_password(password, self.user_for_password_check())
            except forms.ValidationError as error:
                self.add_error("password", error)
        return data


class NewPersonForm(forms.Form):
    username = forms.CharField(
        max_length=150, validators=[_username_validator], help_text=_USERNAME_HELP
    )
    email = forms.EmailField(required=False, help_text="Optional.")

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(f"there is already a person called {username!r}")
        return username

    def user_for_password_check(self):
        return get_user_model()(
            username=self.cleaned_data.get("username", ""), email=self.cleaned_data.get("email", "")
        )


class FirstAdminForm(NewPersonForm, PasswordPairForm):
    field_order = ["username", "email", "password", "password_again"]


class AddPersonForm(NewPersonForm, PasswordPairForm):
    role = forms.ChoiceField(choices=ROLES.items(), initial=BREWER, help_text=_ROLES_HELP)
    field_order = ["username", "email", "role", "password", "password_again"]


class RoleForm(_PlainLabels, forms.Form):
    role = forms.ChoiceField(
        choices=ROLES.items(),
        help_text=_ROLES_HELP,
        error_messages={
            "invalid_choice": "%(value)s is not a role: choose guest, brewer or admin",
        },
    )


class SetPasswordForm(PasswordPairForm):
    def __init__(self, person, *args, **kwargs) -> None:
        self.person = person
        super().__init__(*args, **kwargs)

    def user_for_password_check(self):
        return self.person


class BrewerySettingsForm(_PlainLabels, forms.ModelForm):
    """The settings row plus one colour field per graph series (kept in graph_colours)."""

    time_zone = forms.ChoiceField(
        choices=[],
        help_text="Times are shown in this zone; data is kept in UTC.",
        error_messages={
            "invalid_choice": "%(value)s is not a time zone this system knows: pick one from "
            "the list, such as Europe/Amsterdam or UTC",
        },
    )

    class Meta:
        model = BrewerySettings
        fields = ["brewery_name", "temp_format", "time_zone", "dashboard_requires_login"]
        labels = {"temp_format": "Temperature format"}
        help_texts = {
            "brewery_name": "Shown at the top of every page.",
            "temp_format": "The unit new devices and profiles start with.",
            "dashboard_requires_login": "When off, anyone who can reach this site sees the "
            "dashboard, devices and graphs (and changes nothing).",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name) for name in time_zone_names()]
        colours = self.instance.colours()
        for key, label in GRAPH_SERIES_LABELS.items():
            self.fields[f"colour_{key}"] = forms.CharField(
                label=label,
                initial=colours[key],
                validators=[_hex_colour],
                widget=forms.TextInput(attrs={"type": "color"}),
            )

    def colour_fields(self):
        return [self[f"colour_{key}"] for key in GRAPH_SERIES_LABELS]

    def setting_fields(self):
        return [self[name] for name in self.Meta.fields]

    def save(self, commit: bool = True) -> BrewerySettings:
        settings = super().save(commit=False)
        settings.graph_colours = {
            key: self.cleaned_data[f"colour_{key}"].lower() for key in DEFAULT_GRAPH_COLOURS
        }
        if commit:
            settings.save()
        return settings


class LogViewForm(_PlainLabels, forms.Form):
    """Which log file and how many of its last lines; the choices are the files in log/."""

    file = forms.ChoiceField(
        choices=[],
        error_messages={
            "invalid_choice": "there is no log file called %(value)s in the log folder: "
            "choose one from the list",
        },
    )
    lines = forms.IntegerField(
        min_value=1,
        max_value=logs.MAX_LINES,
        initial=logs.DEFAULT_LINES,
        help_text=f"1 to {logs.MAX_LINES}.",
        error_messages={
            "invalid": f"expected a whole number of lines from 1 to {logs.MAX_LINES}",
            "min_value": "show at least 1 line",
            "max_value": f"at most {logs.MAX_LINES} lines can be shown",
        },
    )

    def __init__(self, names: list[str], *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].choices = [(name, name) for name in names]
