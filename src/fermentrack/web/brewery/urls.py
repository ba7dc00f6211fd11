from django.contrib.auth import views as auth_views
from django.urls import path

from fermentrack.web.brewery import views

urlpatterns = [
    path("setup/", views.first_run, name="first_run"),
    path("login/", auth_views.LoginView.as_view(template_name="brewery/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/", views.brewery_settings, name="brewery_settings"),
    path("settings/people/", views.people, name="people"),
    path("settings/people/<int:pk>/", views.person, name="person"),
    path("settings/people/<int:pk>/role/", views.person_role, name="person_role"),
    path("settings/people/<int:pk>/password/", views.person_password, name="person_password"),
    path("settings/people/<int:pk>/active/", views.person_active, name="person_active"),
    path("settings/logs/", views.log_view, name="logs"),
]
