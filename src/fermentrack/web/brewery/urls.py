from django.contrib.auth import views as auth_views
from django.urls import path

from fermentrack.web.brewery import views

urlpatterns = [
    path("setup/", views.first_run, name="first_run"),
    path("login/", auth_views.LoginView.as_view(template_name="brewery/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/", views.brewery_settings, name="brewery_settings"),
]
