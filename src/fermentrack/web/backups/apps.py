from django.apps import AppConfig


class BackupsConfig(AppConfig):
    name = "fermentrack.web.backups"
    label = "backups"
    verbose_name = "Backups"
