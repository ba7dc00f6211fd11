from django.apps import AppConfig


class PushConfig(AppConfig):
    name = "fermentrack.web.push"
    label = "push"
    verbose_name = "Push targets"
