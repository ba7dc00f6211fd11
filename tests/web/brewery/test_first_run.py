"""The first-run page: it creates the first admin, says what is wrong with a bad form, and is
closed once an admin exists. `fermentrack manage createsuperuser` is the other way in."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model

GOOD = {
    "username": "head-brewer",
    "email": "head@example.com",
    "password": "wort-and-yeast-77",
    "password_again": "wort-and-yeast-77",
}

pytestmark = pytest.mark.django_db


def test_every_page_leads_to_first_run_until_an_admin_exists(client):
    for path in ("/", "/beers/", "/settings/", "/login/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == "/setup/"


@pytest.mark.parametrize("path", ["/tiltbridge/", "/iSpindel", "/ispindle/"])
def test_hydrometers_reach_their_receivers_before_an_admin_exists(client, path):
    response = client.post(path, "{}", content_type="application/json")

    assert response.status_code != 302  # answered by the receiver, not sent to /setup/
    assert response.status_code in (400, 404)


def test_first_run_creates_a_logged_in_admin(client):
    response = client.post("/setup/", GOOD)
    assert response.status_code == 302
    admin = get_user_model().objects.get(username="head-brewer")
    assert admin.is_superuser and admin.is_staff
    assert client.get("/settings/").status_code == 200


def test_first_run_says_the_passwords_differ(client):
    response = client.post("/setup/", {**GOOD, "password_again": "something-else-99"})
    assert b"the two passwords differ" in response.content
    assert not get_user_model().objects.exists()


def test_first_run_refuses_a_weak_password_and_says_why(client):
    response = client.post("/setup/", {**GOOD, "password": "1234", "password_again": "1234"})
    assert b"too short" in response.content
    assert b"entirely numeric" in response.content
    assert not get_user_model().objects.exists()


def test_first_run_refuses_a_username_with_spaces(client):
    response = client.post("/setup/", {**GOOD, "username": "head brewer"})
    assert b"may hold only letters, digits and @ . + - _" in response.content
    assert not get_user_model().objects.exists()


def test_first_run_names_each_missing_field(client):
    response = client.post("/setup/", {})
    assert response.content.count(b"This field is required.") == 3  # username and both passwords


def test_first_run_is_closed_once_an_admin_exists(client, admin_user):
    response = client.post("/setup/", {**GOOD, "username": "intruder"})
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert not get_user_model().objects.filter(username="intruder").exists()


def test_createsuperuser_without_prompts_makes_an_admin(tmp_path):
    """`fermentrack manage createsuperuser --noinput` with DJANGO_SUPERUSER_* variables works
    on a fresh home folder (a brewery set up from a script)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "DATABASE_URL" and not key.startswith("FERMENTRACK_")
    }
    env.update(
        FERMENTRACK_HOME=str(tmp_path),
        DJANGO_SUPERUSER_USERNAME="scripted",
        DJANGO_SUPERUSER_EMAIL="scripted@example.com",
        DJANGO_SUPERUSER_PASSWORD="scripted-password-31",
    )
    command = [sys.executable, "-m", "fermentrack.cli", "manage"]
    for arguments in (["migrate", "--noinput"], ["createsuperuser", "--noinput"]):
        done = subprocess.run(
            [*command, *arguments], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "fermentrack.sqlite3") as database:
        rows = database.execute("SELECT username, is_superuser, is_staff FROM auth_user").fetchall()
    assert rows == [("scripted", 1, 1)]
