from django.apps import AppConfig


class BreweryConfig(AppConfig):
    name = "fermentrack.web.brewery"
    label = "brewery"
    verbose_name = "Brewery settings and people"
