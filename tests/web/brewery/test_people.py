"""The people pages: staff add people with a role, change roles, reset passwords and
deactivate accounts (never their own); nobody else may."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from fermentrack.web.brewery.access import can_change, can_manage_people, is_guest
from fermentrack.web.brewery.models import role_of

pytestmark = pytest.mark.django_db

NEW_PERSON = {
    "username": "assistant",
    "email": "",
    "role": "brewer",
    "password": "mash-tun-sparge-5",
    "password_again": "mash-tun-sparge-5",
}


def person(username: str):
    return get_user_model().objects.get(username=username)


def test_people_page_lists_everyone_with_their_role(admin_client, brewer, guest):
    page = admin_client.get("/settings/people/").content.decode()
    assert "<td>admin</td>" in page and "<td>brewer</td>" in page and "<td>guest</td>" in page


def test_adding_a_brewer_makes_an_account_that_can_change_things(admin_client):
    response = admin_client.post("/settings/people/", NEW_PERSON)
    assert response.status_code == 302
    added = person("assistant")
    assert role_of(added) == "brewer"
    assert can_change(added) and not can_manage_people(added)
    assert Client().login(username="assistant", password="mash-tun-sparge-5")


def test_adding_a_guest_makes_a_read_only_account(admin_client):
    admin_client.post("/settings/people/", {**NEW_PERSON, "role": "guest"})
    added = person("assistant")
    assert is_guest(added) and not can_change(added)


def test_adding_an_admin_makes_staff(admin_client):
    admin_client.post("/settings/people/", {**NEW_PERSON, "role": "admin"})
    added = person("assistant")
    assert added.is_staff and added.is_superuser and can_manage_people(added)


def test_a_taken_username_is_refused_whatever_its_case(admin_client, brewer):
    response = admin_client.post("/settings/people/", {**NEW_PERSON, "username": "Brewer"})
    assert "there is already a person called &#x27;Brewer&#x27;" in response.content.decode()


def test_a_username_with_spaces_is_refused(admin_client):
    response = admin_client.post("/settings/people/", {**NEW_PERSON, "username": "my assistant"})
    assert "may hold only letters, digits and @ . + - _" in response.content.decode()
    assert not get_user_model().objects.filter(username="my assistant").exists()


def test_differing_passwords_are_refused(admin_client):
    response = admin_client.post("/settings/people/", {**NEW_PERSON, "password_again": "other"})
    assert "the two passwords differ" in response.content.decode()


def test_a_password_like_the_username_is_refused(admin_client):
    response = admin_client.post(
        "/settings/people/",
        {
            **NEW_PERSON,
            "username": "kettle-master",
            "password": "kettle-master",
            "password_again": "kettle-master",
        },
    )
    assert "too similar to the username" in response.content.decode()


def test_an_unknown_role_is_refused(admin_client):
    response = admin_client.post("/settings/people/", {**NEW_PERSON, "role": "owner"})
    assert "Select a valid choice. owner is not one of the available choices." in (
        response.content.decode()
    )


def test_an_invalid_email_is_refused(admin_client):
    response = admin_client.post("/settings/people/", {**NEW_PERSON, "email": "not-an-address"})
    assert "Enter a valid email address." in response.content.decode()


def test_changing_a_role_moves_a_brewer_to_guest_and_back(admin_client, brewer):
    url = f"/settings/people/{brewer.pk}/role/"
    assert admin_client.post(url, {"role": "guest"}).status_code == 302
    assert role_of(person("brewer")) == "guest"
    admin_client.post(url, {"role": "brewer"})
    assert role_of(person("brewer")) == "brewer"
    response = admin_client.post(url, {"role": "admin"}, follow=True)
    assert role_of(person("brewer")) == "admin"
    assert "brewer is now an admin." in response.content.decode()


def test_an_unknown_role_change_is_refused_with_the_roles_listed(admin_client, brewer):
    response = admin_client.post(f"/settings/people/{brewer.pk}/role/", {"role": "king"})
    assert response.status_code == 400
    assert "king is not a role: choose guest, brewer or admin" in response.content.decode()


def test_nobody_changes_their_own_role(admin_client, admin_user):
    response = admin_client.post(f"/settings/people/{admin_user.pk}/role/", {"role": "guest"})
    assert response.status_code == 400
    assert "you cannot change your own role" in response.content.decode()
    assert role_of(person("admin")) == "admin"


def test_resetting_a_password_replaces_the_old_one(admin_client, brewer, password):
    response = admin_client.post(
        f"/settings/people/{brewer.pk}/password/",
        {"password": "new-secret-brew-9", "password_again": "new-secret-brew-9"},
    )
    assert response.status_code == 302
    assert Client().login(username="brewer", password="new-secret-brew-9")
    assert not Client().login(username="brewer", password=password)


def test_a_weak_reset_password_is_refused_and_the_old_one_kept(admin_client, brewer, password):
    response = admin_client.post(
        f"/settings/people/{brewer.pk}/password/", {"password": "abc", "password_again": "abc"}
    )
    assert response.status_code == 400
    assert "too short" in response.content.decode()
    assert Client().login(username="brewer", password=password)


def test_an_admin_resetting_their_own_password_stays_logged_in(admin_client, admin_user):
    admin_client.post(
        f"/settings/people/{admin_user.pk}/password/",
        {"password": "fresh-admin-pass-3", "password_again": "fresh-admin-pass-3"},
    )
    assert admin_client.get("/settings/people/").status_code == 200


def test_deactivating_a_person_stops_them_logging_in(admin_client, brewer, password):
    response = admin_client.post(f"/settings/people/{brewer.pk}/active/", {"active": "0"})
    assert response.status_code == 302
    assert not person("brewer").is_active
    assert not Client().login(username="brewer", password=password)
    admin_client.post(f"/settings/people/{brewer.pk}/active/", {"active": "1"})
    assert Client().login(username="brewer", password=password)


def test_a_deactivated_brewer_with_an_open_session_is_logged_out(
    admin_client, brewer_client, brewer
):
    admin_client.post(f"/settings/people/{brewer.pk}/active/", {"active": "0"})
    assert brewer_client.get("/settings/").status_code == 302


def test_nobody_deactivates_themselves(admin_client, admin_user):
    response = admin_client.post(f"/settings/people/{admin_user.pk}/active/", {"active": "0"})
    assert response.status_code == 302
    assert person("admin").is_active
    assert (
        "You cannot deactivate yourself" in admin_client.get(response["Location"]).content.decode()
    )


def test_the_person_page_offers_no_deactivation_or_role_change_of_yourself(
    admin_client, admin_user
):
    page = admin_client.get(f"/settings/people/{admin_user.pk}/").content.decode()
    assert "Deactivate" not in page
    assert "You cannot change your own role" in page


def test_an_unknown_person_is_not_found(admin_client):
    assert admin_client.get("/settings/people/9999/").status_code == 404


def test_the_change_urls_take_posts_only(admin_client, brewer):
    for action in ("role", "password", "active"):
        assert admin_client.get(f"/settings/people/{brewer.pk}/{action}/").status_code == 405


PEOPLE_URLS = ["/settings/people/", "/settings/people/{pk}/"]
PEOPLE_POSTS = [
    ("/settings/people/", NEW_PERSON),
    ("/settings/people/{pk}/role/", {"role": "admin"}),
    (
        "/settings/people/{pk}/password/",
        {"password": "x-y-z-w-1234", "password_again": "x-y-z-w-1234"},
    ),
    ("/settings/people/{pk}/active/", {"active": "0"}),
]


@pytest.mark.parametrize("who", ["brewer_client", "guest_client"])
def test_only_staff_see_or_change_people(request, who, brewer):
    client = request.getfixturevalue(who)
    for url in PEOPLE_URLS:
        assert client.get(url.format(pk=brewer.pk)).status_code == 403
    for url, data in PEOPLE_POSTS:
        assert client.post(url.format(pk=brewer.pk), data).status_code == 403
    assert role_of(person("brewer")) == "brewer" and person("brewer").is_active
    assert not get_user_model().objects.filter(username="assistant").exists()


def test_anonymous_visitors_are_sent_to_log_in_from_people_pages(anonymous_client, brewer):
    for url, data in [(u, None) for u in PEOPLE_URLS] + PEOPLE_POSTS:
        url = url.format(pk=brewer.pk)
        response = anonymous_client.post(url, data) if data else anonymous_client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
    assert person("brewer").is_active


def test_the_guests_group_exists_from_the_migrations():
    from django.contrib.auth.models import Group

    assert Group.objects.filter(name="Guests").exists()
