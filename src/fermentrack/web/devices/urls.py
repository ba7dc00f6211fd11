from django.urls import path

from fermentrack.web.devices import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
