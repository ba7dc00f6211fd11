from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "fermentrack.web.alerts"
    label = "alerts"
    verbose_name = "Alerts"
