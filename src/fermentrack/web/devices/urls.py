from django.urls import path

from fermentrack.web.devices import discovery, presets, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("devices/", views.dashboard, name="device_list"),
    path("devices/cards/", views.dashboard_cards, name="dashboard_cards"),
    path("devices/add/", views.device_add, name="device_add"),
    path("devices/add/network/", discovery.discover_network, name="device_discover_network"),
    path("devices/<slug:name>/", views.device_detail, name="device_detail"),
    path("devices/<slug:name>/status/", views.device_status, name="device_status"),
    path("devices/<slug:name>/mode/", views.device_set_mode, name="device_set_mode"),
    path("devices/<slug:name>/ramp/", views.device_ramp, name="device_ramp"),
    path("devices/<slug:name>/constants/", views.device_constants, name="device_constants"),
    path("devices/<slug:name>/presets/", presets.save_preset, name="device_preset_save"),
    path(
        "devices/<slug:name>/presets/<int:preset>/give/",
        presets.give_preset,
        name="device_preset_give",
    ),
    path(
        "devices/<slug:name>/presets/<int:preset>/delete/",
        presets.delete_preset,
        name="device_preset_delete",
    ),
    path("devices/<slug:name>/hardware/", views.device_hardware, name="device_hardware"),
    path("devices/<slug:name>/beer/start/", views.beer_start, name="device_beer_start"),
    path("devices/<slug:name>/beer/stop/", views.beer_stop, name="device_beer_stop"),
    path("devices/<slug:name>/edit/", views.device_edit, name="device_edit"),
    path("devices/<slug:name>/token/", views.device_new_token, name="device_new_token"),
    path("devices/<slug:name>/delete/", views.device_delete, name="device_delete"),
]
