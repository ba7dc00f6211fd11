from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "fermentrack.web.devices"
    label = "devices"
    verbose_name = "Devices"
