from django.urls import path

from fermentrack.web.push import views

urlpatterns = [
    path("", views.target_list, name="push_list"),
    path("add/", views.target_add, name="push_add"),
    path("add/<str:service>/", views.target_add_service, name="push_add_service"),
    path("<int:pk>/edit/", views.target_edit, name="push_edit"),
    path("<int:pk>/delete/", views.target_delete, name="push_delete"),
    path("<int:pk>/send/", views.target_send_now, name="push_send_now"),
]
