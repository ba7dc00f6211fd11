from django.urls import path

from fermentrack.web.gravity import views

urlpatterns = [
    path("", views.sensor_list, name="gravity_list"),
    path("add/", views.sensor_add, name="gravity_add"),
    path("<int:pk>/", views.sensor_detail, name="gravity_detail"),
    path("<int:pk>/edit/", views.sensor_edit, name="gravity_edit"),
    path("<int:pk>/delete/", views.sensor_delete, name="gravity_delete"),
    path("<int:pk>/readings/add/", views.reading_add, name="gravity_reading_add"),
    path("<int:pk>/readings/<int:reading_pk>/", views.reading_change, name="gravity_reading"),
    path("<int:pk>/calibration/", views.calibration, name="gravity_calibration"),
]
