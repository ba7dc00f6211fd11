from django.urls import path

from fermentrack.web.alerts import views

urlpatterns = [
    path("", views.alert_list, name="alert_list"),
    path("add/", views.alert_add, name="alert_add"),
    path("<int:pk>/edit/", views.alert_edit, name="alert_edit"),
    path("<int:pk>/delete/", views.alert_delete, name="alert_delete"),
    path("mail/", views.mail_settings, name="alert_mail"),
    path("mail/test/", views.mail_test, name="alert_mail_test"),
]
