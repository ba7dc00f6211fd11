from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "fermentrack.web.profiles"
    label = "profiles"
    verbose_name = "Fermentation profiles"
