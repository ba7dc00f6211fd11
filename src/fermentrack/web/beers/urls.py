from django.urls import path

from fermentrack.web.beers import export, views

urlpatterns = [
    path("", views.beer_list, name="beer_list"),
    path("<int:pk>/", views.beer_detail, name="beer_detail"),
    path("<int:pk>/edit/", views.beer_edit, name="beer_edit"),
    path("<int:pk>/delete/", views.beer_delete, name="beer_delete"),
    path(
        "<int:pk>/original-gravity/",
        views.beer_original_gravity,
        name="beer_original_gravity",
    ),
    path("<int:pk>/log/", views.beer_log_add, name="beer_log_add"),
    path("<int:pk>/log/<int:entry>/delete/", views.beer_log_delete, name="beer_log_delete"),
    path("<int:pk>/share/", views.beer_share, name="beer_share"),
    path("<int:pk>/unshare/", views.beer_unshare, name="beer_unshare"),
    path("shared/<str:token>/", views.beer_shared, name="beer_shared"),
    path("<int:beer_id>/csv", export.beer_csv, name="beer_csv"),
]
