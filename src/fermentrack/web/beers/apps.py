from django.apps import AppConfig


class BeersConfig(AppConfig):
    name = "fermentrack.web.beers"
    label = "beers"
    verbose_name = "Beers and logs"
