"""The Guests group exists from the start: membership makes a person read-only."""

from django.db import migrations


def create_guests_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name="Guests")


class Migration(migrations.Migration):
    dependencies = [
        ("brewery", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_guests_group, migrations.RunPython.noop)]
