from django.urls import path

from fermentrack.web.profiles import views

urlpatterns = [
    path("", views.profile_list, name="profile_list"),
    path("new/", views.profile_new, name="profile_new"),
    path("import/", views.profile_import, name="profile_import"),
    path("preview/", views.profile_preview, name="profile_preview"),
    path("<int:pk>/", views.profile_detail, name="profile_detail"),
    path("<int:pk>/edit/", views.profile_edit, name="profile_edit"),
    path("<int:pk>/copy/", views.profile_copy, name="profile_copy"),
    path("<int:pk>/delete/", views.profile_delete, name="profile_delete"),
    path("<int:pk>/start/", views.profile_start, name="profile_start"),
    path("<int:pk>/export.<str:kind>", views.profile_export, name="profile_export"),
]
