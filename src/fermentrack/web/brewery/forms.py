"""Forms of the brewery app: the first admin, and the brewery's settings."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation

from fermentrack.web.brewery.models import BrewerySettings


class FirstAdminForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    password = forms.CharField(widget=forms.PasswordInput)
    password_again = forms.CharField(widget=forms.PasswordInput)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username=username).exists():
            raise forms.ValidationError(f"there is already a user called {username!r}")
        return username

    def clean(self):
        data = super().clean()
        password = data.get("password")
        if password and password != data.get("password_again"):
            self.add_error("password_again", "the two passwords differ")
        elif password:
            user = get_user_model()(username=data.get("username", ""), email=data.get("email", ""))
            try:
                password_validation.validate_password(password, user)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return data


class BrewerySettingsForm(forms.ModelForm):
    class Meta:
        model = BrewerySettings
        fields = ["brewery_name", "temp_format", "time_zone", "dashboard_requires_login"]
