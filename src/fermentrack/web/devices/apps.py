from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "fermentrack.web.devices"
    label = "devices"
    verbose_name = "Devices"

    def ready(self) -> None:
        from fermentrack.controller import client
        from fermentrack.web.devices.remote_controllers import remote_controller

        client.use_remote_lookup(remote_controller)
