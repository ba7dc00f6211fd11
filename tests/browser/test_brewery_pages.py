"""The brewery's own pages in a real browser, at a phone's width and a desktop's: logging in,
first run, settings, people and the log viewer."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from fermentrack.web.brewery.models import BrewerySettings, role_of

pytestmark = pytest.mark.django_db(transaction=True)


def test_logging_in_through_the_form_returns_to_the_page_asked_for(
    page, brewer, password, shoot, assert_fits_width
):
    page.goto("/settings/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/settings/$"))
    shoot("login")
    assert_fits_width()
    page.get_by_label("Username").fill("brewer")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/settings/$"))
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()


def test_a_wrong_password_says_so_and_keeps_you_out(page, brewer):
    page.goto("/login/")
    page.get_by_label("Username").fill("brewer")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("do not match an account")).to_be_visible()


def test_logging_out_from_the_menu(page, log_in, brewer):
    log_in(brewer)
    page.goto("/settings/")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def test_first_run_creates_the_admin_and_logs_them_in(page, shoot, assert_fits_width):
    page.goto("/setup/")
    page.get_by_label("Username").fill("head-brewer")
    page.get_by_label("Password", exact=True).fill("1234")
    page.get_by_label("Password again").fill("1234")
    page.get_by_role("button", name="Create admin").click()
    expect(page.get_by_text("This password is too short")).to_be_visible()
    shoot("first-run-errors")
    assert_fits_width()
    page.get_by_label("Password", exact=True).fill("wort-and-yeast-77")
    page.get_by_label("Password again").fill("wort-and-yeast-77")
    page.get_by_role("button", name="Create admin").click()
    expect(page.get_by_text("Welcome, head-brewer")).to_be_visible()
    assert get_user_model().objects.get(username="head-brewer").is_superuser


def test_settings_are_saved_from_the_page(page, log_in, admin_user, shoot, assert_fits_width):
    log_in(admin_user)
    page.goto("/settings/")
    shoot("settings")
    assert_fits_width()
    page.get_by_label("Brewery name").fill("Garage Ales")
    page.get_by_label("Temperature format").select_option("F")
    page.get_by_label("Time zone").select_option("Europe/Amsterdam")
    page.get_by_label("Beer temperature").fill("#aa3300")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    expect(page.locator(".brand")).to_have_text("Garage Ales")
    settings = BrewerySettings.load()
    assert (settings.temp_format, settings.time_zone) == ("F", "Europe/Amsterdam")
    assert settings.colours()["beer_temp"] == "#aa3300"


def test_a_bad_setting_is_shown_next_to_its_field(page, log_in, brewer, shoot):
    log_in(brewer)
    page.goto("/settings/")
    page.get_by_label("Brewery name").fill("")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("This field is required.")).to_be_visible()
    shoot("settings-errors")


def test_an_admin_adds_a_guest_and_then_deactivates_them(
    page, log_in, admin_user, shoot, assert_fits_width
):
    log_in(admin_user)
    page.goto("/settings/")
    page.get_by_role("link", name="People").click()
    page.get_by_label("Username").fill("visitor")
    page.get_by_label("Role").select_option("guest")
    page.get_by_label("Password", exact=True).fill("just-looking-42")
    page.get_by_label("Password again").fill("just-looking-42")
    page.get_by_role("button", name="Add person").click()
    expect(page.get_by_text("Added visitor as guest.")).to_be_visible()
    shoot("people")
    assert_fits_width()
    assert role_of(get_user_model().objects.get(username="visitor")) == "guest"

    page.get_by_role("link", name="visitor").click()
    shoot("person")
    assert_fits_width()
    page.get_by_role("button", name="Deactivate visitor").click()
    expect(page.get_by_text("visitor is deactivated and cannot log in.")).to_be_visible()
    assert not get_user_model().objects.get(username="visitor").is_active


def test_a_guest_sees_no_settings_and_is_refused_them(page, log_in, guest):
    log_in(guest)
    page.goto("/")
    expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    response = page.goto("/settings/")
    assert response.status == 403


def test_the_log_viewer_switches_files_in_place(
    page, log_in, brewer, tmp_path, monkeypatch, shoot, assert_fits_width
):
    monkeypatch.setenv("FERMENTRACK_HOME", str(tmp_path))
    folder = tmp_path / "log"
    folder.mkdir()
    (folder / "fermentrack.log").write_text("".join(f"web request {n}\n" for n in range(300)))
    (folder / "dev-fridge-1-stderr.log").write_text("firmware not connected\n")
    log_in(brewer)
    page.goto("/settings/")
    page.get_by_role("link", name="Logs").click()
    expect(page.locator("pre.log")).to_contain_text("web request 299")
    expect(page.locator("pre.log")).not_to_contain_text("web request 199\n")
    shoot("logs")
    assert_fits_width()
    page.evaluate("window.notReloaded = true")
    page.get_by_label("File").select_option("dev-fridge-1-stderr.log")
    expect(page.locator("pre.log")).to_contain_text("firmware not connected")
    expect(page).to_have_url(re.compile(r"file=dev-fridge-1-stderr.log"))
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the view in place
    page.get_by_label("Lines").fill("5000")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("at most 2000 lines can be shown")).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
