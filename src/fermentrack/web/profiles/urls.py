from django.urls import path

from fermentrack.web.profiles import views

urlpatterns = [
    path("", views.profile_list, name="profile_list"),
]
