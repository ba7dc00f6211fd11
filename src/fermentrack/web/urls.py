"""Every URL of the web app: each app brings its own, the API its routers."""

from django.urls import include, path

from fermentrack.web.api import api

urlpatterns = [
    path("api/", api.urls),
    path("", include("fermentrack.web.brewery.urls")),
    path("", include("fermentrack.web.devices.urls")),
    path("beers/", include("fermentrack.web.beers.urls")),
    path("profiles/", include("fermentrack.web.profiles.urls")),
    path("gravity/", include("fermentrack.web.gravity.urls")),
    path("settings/push/", include("fermentrack.web.push.urls")),
    path("settings/mqtt/", include("fermentrack.web.mqtt.urls")),
    path("settings/alerts/", include("fermentrack.web.alerts.urls")),
    path("settings/backups/", include("fermentrack.web.backups.urls")),
    # Hydrometers post to the spellings they know (gravity-and-push.md §2.1, §3.2).
    path("", include("fermentrack.web.gravity.receiver_urls")),
]
