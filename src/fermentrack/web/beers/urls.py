from django.urls import path

from fermentrack.web.beers import views

urlpatterns = [
    path("", views.beer_list, name="beer_list"),
]
