from django.apps import AppConfig


class GravityConfig(AppConfig):
    name = "fermentrack.web.gravity"
    label = "gravity"
    verbose_name = "Gravity sensors"
