"""Alert pages: the rules with their state, adding and editing a rule with errors in words, the
mail settings (password never shown back) and their test message, the history, who may change
what, and the alerter watcher present only while an enabled rule exists."""

from __future__ import annotations

import pytest

from fermentrack.procman.layout import ALERTS_WATCHER
from fermentrack.web.alerts.evaluator import check_rules
from fermentrack.web.alerts.forms import AlertRuleForm
from fermentrack.web.alerts.models import AlertEvent, AlertRule, MailSettings
from fermentrack.web.alerts.watchers import alert_watchers
from fermentrack.web.beers.models import Beer, LogPoint

pytestmark = pytest.mark.django_db


def rule_form(**changes) -> dict:
    data = {
        "kind": "temperature_band",
        "enabled": "on",
        "device": "",
        "beer": "",
        "sensor": "",
        "minutes": "15",
        "hours": "24",
        "low": "18",
        "high": "21",
        "tolerance_points": "",
        "battery_volts": "",
        "battery_weeks": "",
        "email_to": "brewer@example.com",
        "webhook_url": "",
        "ntfy_server": "https://ntfy.sh",
        "ntfy_topic": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def band_rule(chamber, **fields) -> AlertRule:
    values = {
        "kind": "temperature_band",
        "device": chamber,
        "duration_s": 900,
        "low": 18.0,
        "high": 21.0,
        "email_to": "brewer@example.com",
    }
    return AlertRule.objects.create(**(values | fields))


# -- adding and editing a rule -------------------------------------------------------------------


def test_a_brewer_adds_a_temperature_band_rule_in_the_chambers_unit(brewer_client, chamber):
    chamber.temp_format = "F"
    chamber.save()
    answer = brewer_client.post(
        "/settings/alerts/add/",
        rule_form(device=chamber.pk, low="64", high="70", ntfy_topic="my-brewery_1"),
    )
    assert answer.status_code == 302, answer.content.decode()
    rule = AlertRule.objects.get()
    assert (rule.kind, rule.device, rule.duration_s) == ("temperature_band", chamber, 900)
    assert (rule.low, rule.high, rule.temp_format) == (64.0, 70.0, "F")
    assert rule.channels() == [
        ("email", "brewer@example.com"),
        ("ntfy", "https://ntfy.sh/my-brewery_1"),
    ]
    page = brewer_client.get("/settings/alerts/").content.decode()
    assert "beer temperature outside 64.0–70.0 °F for 15 minutes" in page
    assert "e-mail to 1 address, ntfy" in page


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {"low": "21", "high": "18"},
            "high",
            "the highest temperature 18 must be above the lowest, 21",
        ),
        ({"minutes": "0"}, "minutes", "greater than or equal to 1"),
        ({"minutes": ""}, "minutes", "say for how many minutes (1 or more)"),
        ({"email_to": ""}, None, "choose at least one channel"),
        (
            {"email_to": "brewer@example.com, not-an-address"},
            "email_to",
            "'not-an-address' is not an e-mail address",
        ),
        (
            {"webhook_url": "ftp://example.com/x"},
            "webhook_url",
            "webhook URL 'ftp://example.com/x' must start with http:// or https://",
        ),
        ({"webhook_url": "http://"}, "webhook_url", "Enter a valid URL"),
        ({"ntfy_topic": "my topic!"}, "ntfy_topic", "may hold only letters, digits"),
        ({"device": ""}, "device", "choose the chamber (or a beer) to watch"),
    ],
)
def test_a_rule_that_cannot_work_is_refused_in_words(brewer_client, chamber, changes, field, words):
    data = rule_form(device=chamber.pk) | changes
    answer = brewer_client.post("/settings/alerts/add/", data)
    assert answer.status_code == 200
    form = answer.context["form"]
    errors = form.errors.get(field or "__all__", [])
    assert any(words in error for error in errors), form.errors
    assert not AlertRule.objects.exists()


def test_a_battery_rule_asks_volts_of_an_ispindel_and_weeks_of_a_tilt(
    brewer_client, tilt, ispindel
):
    answer = brewer_client.post(
        "/settings/alerts/add/",
        rule_form(kind="battery_low", sensor=ispindel.pk, battery_weeks="52"),
    )
    assert "give the voltage to alert below" in str(answer.context["form"].errors)
    answer = brewer_client.post(
        "/settings/alerts/add/", rule_form(kind="battery_low", sensor=tilt.pk, battery_weeks="52")
    )
    assert answer.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.battery_weeks, rule.battery_volts, rule.low) == (52, None, None)
    assert rule.describe() == "Purple Tilt: battery older than 52 weeks for 15 minutes"


def test_a_gravity_stable_rule_counts_hours(brewer_client, tilt):
    answer = brewer_client.post(
        "/settings/alerts/add/",
        rule_form(kind="gravity_stable", sensor=tilt.pk, hours="24", tolerance_points="2"),
    )
    assert answer.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.duration_s, rule.tolerance_points) == (24 * 3600, 2.0)


def test_a_temperature_rule_may_watch_a_beer_instead_of_the_chamber(brewer_client, chamber):
    beer = Beer.start(chamber, "Pale Ale", now=1_700_000_000)
    answer = brewer_client.post("/settings/alerts/add/", rule_form(beer=beer.pk))
    assert answer.status_code == 302
    assert AlertRule.objects.get().describe().startswith("Pale Ale (chamber-1): beer temperature")


def test_changing_what_a_firing_rule_watches_starts_it_afresh(brewer_client, chamber):
    rule = band_rule(chamber, state="firing", state_since=1_700_000_000)
    answer = brewer_client.post(
        f"/settings/alerts/{rule.pk}/edit/", rule_form(device=chamber.pk, high="22")
    )
    assert answer.status_code == 302
    rule.refresh_from_db()
    assert (rule.high, rule.state, rule.state_since) == (22.0, "ok", None)


def test_changing_only_where_a_firing_rule_sends_keeps_it_firing(brewer_client, chamber):
    rule = band_rule(chamber, state="firing", state_since=1_700_000_000)
    answer = brewer_client.post(
        f"/settings/alerts/{rule.pk}/edit/",
        rule_form(device=chamber.pk, email_to="other@example.com"),
    )
    assert answer.status_code == 302
    rule.refresh_from_db()
    assert (rule.email_to, rule.state) == ("other@example.com", "firing")


NOW = 1_700_000_000


def alerter_round_during_the_save(monkeypatch, now: int) -> list[AlertEvent]:
    """Make the alerter run one round between the edit page loading the rule and saving it:
    the events that round sent."""
    events: list[AlertEvent] = []
    save = AlertRuleForm.save

    def round_then_save(form, commit: bool = True):
        events.extend(check_rules(now))
        return save(form, commit)

    monkeypatch.setattr(AlertRuleForm, "save", round_then_save)
    return events


def beer_at(chamber, temperature: float, since: int, until: int) -> None:
    for ts in range(since, until + 1, 30):
        LogPoint.objects.create(device=chamber, ts=ts, beer_temp=temperature, temp_format="C")


def test_an_alert_that_fires_while_its_rule_is_saved_is_neither_lost_nor_sent_again(
    brewer_client, chamber, monkeypatch
):
    rule = band_rule(chamber, duration_s=600, watched_since=NOW - 3600)
    beer_at(chamber, 25.0, NOW - 900, NOW)
    events = alerter_round_during_the_save(monkeypatch, NOW)
    answer = brewer_client.post(
        f"/settings/alerts/{rule.pk}/edit/",
        rule_form(device=chamber.pk, minutes="10", email_to="other@example.com"),
    )
    assert answer.status_code == 302
    assert [event.kind for event in events] == ["fired"]
    rule.refresh_from_db()
    assert (rule.email_to, rule.state, rule.state_since) == ("other@example.com", "firing", NOW)
    assert check_rules(NOW + 30) == []  # firing already: not sent again


def test_an_alert_that_recovers_while_its_rule_is_saved_does_not_recover_twice(
    brewer_client, chamber, monkeypatch
):
    rule = band_rule(chamber, duration_s=600, state="firing", state_since=NOW - 600)
    beer_at(chamber, 20.0, NOW - 300, NOW)
    events = alerter_round_during_the_save(monkeypatch, NOW)
    answer = brewer_client.post(
        f"/settings/alerts/{rule.pk}/edit/",
        rule_form(device=chamber.pk, minutes="10", ntfy_topic="cellar"),
    )
    assert answer.status_code == 302
    assert [event.kind for event in events] == ["recovered"]
    rule.refresh_from_db()
    assert (rule.ntfy_topic, rule.state, rule.state_since) == ("cellar", "ok", NOW)
    assert check_rules(NOW + 30) == []


def test_changing_what_a_rule_watches_while_the_alerter_runs_still_starts_it_afresh(
    brewer_client, chamber, monkeypatch
):
    rule = band_rule(chamber, duration_s=600, watched_since=NOW - 3600)
    beer_at(chamber, 25.0, NOW - 900, NOW)
    events = alerter_round_during_the_save(monkeypatch, NOW)
    answer = brewer_client.post(
        f"/settings/alerts/{rule.pk}/edit/", rule_form(device=chamber.pk, minutes="10", high="26")
    )
    assert answer.status_code == 302
    assert [event.kind for event in events] == ["fired"]
    rule.refresh_from_db()
    assert (rule.high, rule.state, rule.state_since) == (26.0, "ok", None)
    assert rule.watched_since > NOW


def test_deleting_a_rule_takes_its_history(brewer_client, chamber):
    rule = band_rule(chamber)
    AlertEvent.objects.create(rule=rule, kind="fired", title="t", message="m", ts=1)
    assert (
        "history of 1 message"
        in brewer_client.get(f"/settings/alerts/{rule.pk}/delete/").content.decode()
    )
    assert brewer_client.post(f"/settings/alerts/{rule.pk}/delete/").status_code == 302
    assert not AlertRule.objects.exists() and not AlertEvent.objects.exists()


# -- the list and the history --------------------------------------------------------------------


def test_the_list_shows_each_rules_state_and_last_event(brewer_client, chamber):
    rule = band_rule(chamber, state="firing", state_since=1_700_000_000)
    AlertEvent.objects.create(
        rule=rule,
        kind="fired",
        title="Alert",
        message="Beer temperature of chamber-1 has been 23.4 °C, above 21.0 °C, for 15 minutes.",
        ts=1_700_000_000,
        deliveries=[
            {"channel": "email", "target": "b@example.com", "status": "sent", "attempts": 1},
            {
                "channel": "webhook",
                "target": "http://x",
                "status": "failed",
                "attempts": 4,
                "error": "http://x answered 500 Internal Server Error",
            },
        ],
    )
    page = brewer_client.get("/settings/alerts/").content.decode()
    assert 'class="flag alert-state firing">firing<' in page
    assert "Last: fired" in page
    assert "has been 23.4 °C, above 21.0 °C, for 15 minutes." in page
    assert "email: sent" in page
    assert "webhook: failed (http://x answered 500 Internal Server Error)" in page


def test_the_history_is_newest_first_and_paged(brewer_client, chamber):
    rule = band_rule(chamber)
    for number in range(30):
        AlertEvent.objects.create(
            rule=rule, kind="fired", title="t", message=f"event {number}.", ts=1000 + number
        )
    first = brewer_client.get("/settings/alerts/").content.decode()
    assert first.index("event 29.") < first.index("event 28.")
    assert "event 4." not in first and "Page 1 of 2" in first
    assert "event 4." in brewer_client.get("/settings/alerts/?page=2").content.decode()


def test_the_rules_of_one_chamber_are_listed_from_its_page(brewer_client, chamber):
    band_rule(chamber)
    other = type(chamber).objects.create(name="chamber-2", simulated=True)
    band_rule(other, low=10.0)
    page = brewer_client.get("/settings/alerts/?device=chamber-2").content.decode()
    assert "10.0–21.0" in page and "18.0–21.0" not in page
    assert "/settings/alerts/add/?device=chamber-2" in page


# -- mail settings -------------------------------------------------------------------------------


def mail_form(**changes) -> dict:
    data = {
        "host": "smtp.example.com",
        "port": "587",
        "security": "starttls",
        "username": "brewer",
        "password": "s3cret-pass",
        "from_address": "brewery@example.com",
    }
    return data | changes


def test_the_mail_password_is_kept_and_never_shown_back(brewer_client):
    assert brewer_client.post("/settings/alerts/mail/", mail_form()).status_code == 302
    assert MailSettings.load().password == "s3cret-pass"
    page = brewer_client.get("/settings/alerts/").content.decode()
    assert "s3cret-pass" not in page
    assert "a password is stored" in page
    # Saved again with the password left empty: it stays; "remove" removes it.
    brewer_client.post("/settings/alerts/mail/", mail_form(password="", port="2525"))
    assert (MailSettings.load().password, MailSettings.load().port) == ("s3cret-pass", 2525)
    brewer_client.post("/settings/alerts/mail/", mail_form(password="", clear_password="on"))
    assert MailSettings.load().password == ""


def test_mail_settings_that_cannot_work_are_refused_in_words(brewer_client):
    answer = brewer_client.post("/settings/alerts/mail/", mail_form(port="70000", from_address=""))
    assert answer.status_code == 400
    errors = answer.context["mail_form"].errors
    assert "port 70000 is not between 1 and 65535" in str(errors)
    assert "give the address alerts are sent from" in str(errors)


def test_the_test_message_arrives_through_the_mail_settings(brewer_client, mail_to_sink, smtp_sink):
    answer = brewer_client.post(
        "/settings/alerts/mail/test/", {"to": "me@example.com"}, follow=True
    )
    assert "Sent a test message to me@example.com" in answer.content.decode()
    assert [(m.to, m.subject) for m in smtp_sink.messages] == [
        (["me@example.com"], "Fermentrack: test message")
    ]


def test_a_test_message_that_fails_says_why(brewer_client, db):
    settings = MailSettings.load()
    settings.host, settings.port, settings.security = "127.0.0.1", 9, "none"
    settings.from_address = "brewery@example.com"
    settings.save()
    answer = brewer_client.post(
        "/settings/alerts/mail/test/", {"to": "me@example.com"}, follow=True
    )
    page = answer.content.decode()
    assert "The test message to me@example.com was not sent:" in page
    assert "refused" in page.lower()


def test_a_test_message_without_a_mail_server_says_so(brewer_client):
    answer = brewer_client.post(
        "/settings/alerts/mail/test/", {"to": "me@example.com"}, follow=True
    )
    assert "no mail server is set" in answer.content.decode()


# -- who may do what -----------------------------------------------------------------------------


def test_a_guest_sees_the_rules_but_no_forms_secrets_or_changes(guest_client, chamber):
    MailSettings.objects.update_or_create(
        pk=1,
        defaults={
            "host": "smtp.example.com",
            "password": "pw-123",
            "from_address": "b@example.com",
        },
    )
    rule = band_rule(
        chamber, webhook_url="https://hooks.example.com/secret-token", ntfy_topic="secret-topic"
    )
    page = guest_client.get("/settings/alerts/").content.decode()
    assert "18.0–21.0" in page
    assert "secret-token" not in page and "secret-topic" not in page and "pw-123" not in page
    assert "Add an alert" not in page and "Save mail settings" not in page
    assert guest_client.get("/settings/alerts/add/").status_code == 403
    assert guest_client.post(f"/settings/alerts/{rule.pk}/delete/").status_code == 403
    assert guest_client.post("/settings/alerts/mail/", mail_form()).status_code == 403
    assert (
        guest_client.post("/settings/alerts/mail/test/", {"to": "g@example.com"}).status_code == 403
    )
    assert AlertRule.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(anonymous_client):
    answer = anonymous_client.get("/settings/alerts/")
    assert answer.status_code == 302 and "/login" in answer["Location"]


# -- the alerter watcher -------------------------------------------------------------------------


def test_the_alerter_runs_only_while_an_enabled_rule_exists(chamber):
    assert alert_watchers() == []
    rule = band_rule(chamber, enabled=False)
    assert alert_watchers() == []
    rule.enabled = True
    rule.save()
    [spec] = alert_watchers()
    assert spec.name == ALERTS_WATCHER
    assert spec.args[-2:] == ("manage", "alerter")
    rule.delete()
    assert alert_watchers() == []


def test_a_chambers_page_links_to_its_alerts(brewer_client, chamber):
    page = brewer_client.get(f"/devices/{chamber.name}/").content.decode()
    assert 'href="/settings/alerts/?device=chamber-1"' in page


def test_the_add_page_starts_with_a_kind_chosen_and_its_chambers_preselected(
    brewer_client, chamber
):
    page = brewer_client.get("/settings/alerts/add/?device=chamber-1").content.decode()
    assert 'name="kind" value="temperature_band" required id="id_kind_2" checked>' in page
    assert f'<option value="{chamber.pk}" selected>chamber-1</option>' in page
    assert 'data-for="hydrometer_silent gravity_stable battery_low"' in page
