"""Fixtures every web test may use: one user of each role and a logged-in client for each.

Roles (brewery/access.py): the admin (superuser and staff: changes everything, manages
people), a brewer (changes things), a guest (member of the Guests group: looks, never
changes). Every fixture that makes a user also makes the admin, so the first-run middleware
lets requests through; `anonymous_client` is a logged-out client of a brewery that is set up.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from fermentrack.web.brewery.models import GUESTS_GROUP

# One password for every fixture user, long and uncommon enough for Django's validators, so
# browser tests can log in through the form.
PASSWORD = "hop-cone-fermenter-42"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing passwords the production way costs ~0.3 s a user; tests do not need that."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _static_root():
    """whitenoise warns about a missing STATIC_ROOT on every request handler it starts."""
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", PASSWORD)


@pytest.fixture
def brewer(django_user_model, admin_user):
    return django_user_model.objects.create_user("brewer", "brewer@example.com", PASSWORD)


@pytest.fixture
def guest(django_user_model, admin_user):
    user = django_user_model.objects.create_user("guest", "guest@example.com", PASSWORD)
    user.groups.add(Group.objects.get_or_create(name=GUESTS_GROUP)[0])
    return user


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin_client(admin_user) -> Client:
    return _client_for(admin_user)


@pytest.fixture
def brewer_client(brewer) -> Client:
    return _client_for(brewer)


@pytest.fixture
def guest_client(guest) -> Client:
    return _client_for(guest)


@pytest.fixture
def anonymous_client(admin_user) -> Client:
    """A logged-out visitor of a brewery whose first run is done (an admin exists)."""
    return Client()
