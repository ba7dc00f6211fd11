from django.apps import AppConfig


class MqttConfig(AppConfig):
    name = "fermentrack.web.mqtt"
    label = "mqtt"
    verbose_name = "MQTT and Home Assistant"
