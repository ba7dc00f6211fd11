from django.urls import path

from fermentrack.web.backups import views

urlpatterns = [
    path("", views.backup_list, name="backup_list"),
    path("create/", views.backup_create, name="backup_create"),
    path("nightly/", views.backup_nightly, name="backup_nightly"),
    path("upload/", views.backup_upload, name="backup_upload"),
    path("<str:name>/download/", views.backup_download, name="backup_download"),
    path("<str:name>/delete/", views.backup_delete, name="backup_delete"),
    path("<str:name>/restore/", views.backup_restore, name="backup_restore"),
]
