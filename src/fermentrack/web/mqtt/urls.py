from django.urls import path

from fermentrack.web.mqtt import views

urlpatterns = [
    path("", views.mqtt_settings, name="mqtt_settings"),
]
