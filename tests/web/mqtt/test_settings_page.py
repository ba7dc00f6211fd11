"""The MQTT settings page: who may use it, what it refuses and why, and the bridge's state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fermentrack.web.mqtt.models import MqttSettings
from fermentrack.web.mqtt.views import bridge_state

URL = "/settings/mqtt/"


def form(**changes) -> dict:
    data = {
        "enabled": "on",
        "host": "homeassistant.local",
        "port": "1883",
        "username": "",
        "password": "",
        "client_id": "",
        "base_topic": "fermentrack",
        "discovery_prefix": "homeassistant",
        "command_user": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_the_page_is_named_mqtt_settings_and_starts_off(brewer_client):
    assert reverse("mqtt_settings") == URL
    page = brewer_client.get(URL).content.decode()
    assert "MQTT is off: nothing is published and no bridge runs." in page
    assert "fermentrack/fridge-1/beer_setting/set" in page


def test_guests_may_not_change_the_settings_and_visitors_must_log_in(
    guest_client, anonymous_client
):
    assert guest_client.post(URL, form()).status_code == 403
    assert anonymous_client.get(URL).status_code == 302
    assert not MqttSettings.load().enabled


def test_a_brewer_saves_the_settings(brewer_client):
    answer = brewer_client.post(URL, form(password="s3cret", username="brew"))
    assert answer.status_code == 302
    settings = MqttSettings.load()
    assert (settings.enabled, settings.host, settings.port) == (True, "homeassistant.local", 1883)
    assert (settings.username, settings.password) == ("brew", "s3cret")


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"port": "0"}, "port 0 is out of range: expected 1 to 65535"),
        ({"port": "70000"}, "port 70000 is out of range"),
        ({"host": "mqtt://broker.local"}, "should not start with mqtt://"),
        ({"host": "broker.local:1883"}, "is not a host name or IP address"),
        ({"host": ""}, "publishing to MQTT needs the broker&#x27;s host"),
        ({"base_topic": "fermentrack/#"}, "may not hold the wildcards"),
        ({"discovery_prefix": "home+assistant"}, "may not hold the wildcards"),
        ({"base_topic": "/fermentrack"}, "may not start or end with"),
        ({"accept_commands": "on"}, "commands from MQTT need a person to act as"),
        ({"password": "x"}, "a password needs a username too"),
    ],
)
def test_bad_settings_are_refused_in_words_and_nothing_is_saved(brewer_client, changes, words):
    answer = brewer_client.post(URL, form(**changes))
    assert answer.status_code == 200
    assert words in answer.content.decode()
    assert not MqttSettings.load().enabled


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("my-ca.crt", "this is not a PEM certificate: expected one or more PEM certificates"),
        (
            "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----",
            "this certificate cannot be read (",
        ),
        (
            "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
            "this is a private key, which must stay on the broker: paste the CA&#x27;s "
            "certificate instead",
        ),
        ("-----BEGIN CERTIFICATE-----\nMIIé\n", "characters a PEM certificate never has"),
    ],
)
def test_a_ca_certificate_that_is_not_pem_is_refused_in_words(brewer_client, text, words):
    answer = brewer_client.post(URL, form(tls="on", port="8883", ca_certificate=text))
    page = answer.content.decode()
    assert answer.status_code == 200
    assert words in page
    assert "each from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----" in page
    assert MqttSettings.load().ca_certificate == ""


def test_the_brokers_ca_certificate_is_saved_with_tls(brewer_client, tls_files):
    pem = tls_files.authority.pem() + tls_files.stranger.pem()  # a bundle of two is fine too
    pasted = pem.replace("\n", "\r\n") + "\r\n\r\n"  # as a browser sends a textarea
    answer = brewer_client.post(URL, form(tls="on", port="8883", ca_certificate=pasted))
    assert answer.status_code == 302
    settings = MqttSettings.load()
    assert (settings.tls, settings.ca_certificate) == (True, pem)
    page = brewer_client.get(URL).content.decode()
    assert "Broker&#x27;s CA certificate" in page and tls_files.authority.pem() in page


def test_a_ca_certificate_without_tls_is_refused_as_it_would_not_be_used(brewer_client, tls_files):
    answer = brewer_client.post(URL, form(ca_certificate=tls_files.authority.pem()))
    assert answer.status_code == 200
    assert "a CA certificate is used only with TLS: tick Use TLS" in answer.content.decode()
    assert MqttSettings.load().ca_certificate == ""


def test_the_password_is_never_shown_back_and_kept_when_left_empty(brewer_client):
    brewer_client.post(URL, form(username="brew", password="hop-secret-9"))
    page = brewer_client.get(URL).content.decode()
    assert "hop-secret-9" not in page
    assert "a password is saved" in page
    brewer_client.post(URL, form(username="brew", port="1884"))
    settings = MqttSettings.load()
    assert (settings.port, settings.password) == (1884, "hop-secret-9")
    brewer_client.post(URL, form(username="brew", forget_password="on"))
    assert MqttSettings.load().password == ""


def test_commands_can_act_only_as_someone_who_may_change_things(brewer_client, brewer, guest):
    page = brewer_client.get(URL).content.decode()
    assert f'value="{brewer.pk}"' in page
    assert f'value="{guest.pk}"' not in page
    answer = brewer_client.post(URL, form(accept_commands="on", command_user=str(guest.pk)))
    assert "Select a valid choice" in answer.content.decode()
    brewer_client.post(URL, form(accept_commands="on", command_user=str(brewer.pk)))
    assert MqttSettings.load().command_user == brewer


def test_saving_leaves_the_bridges_own_fields_alone(brewer_client):
    settings = MqttSettings.load()
    connected_at = timezone.now()
    settings.record(connected=True, last_connected_at=connected_at, bridge_seen_at=connected_at)
    brewer_client.post(URL, form())
    settings.refresh_from_db()
    assert settings.connected and settings.last_connected_at == connected_at


@pytest.mark.django_db
def test_the_bridges_state_in_plain_words(brewer):
    now = timezone.now()
    settings = MqttSettings.load()
    settings.enabled, settings.host, settings.port = True, "broker.local", 1883

    assert bridge_state(settings, now)[0].text == "The bridge has not started yet."

    settings.bridge_seen_at = now - timedelta(minutes=5)
    assert bridge_state(settings, now)[0].text == (
        "The bridge is not running: it last reported 5 min ago."
    )

    settings.bridge_seen_at = now - timedelta(seconds=3)
    settings.last_error = "cannot reach the broker at broker.local:1883: Connection refused"
    lines = [line.text for line in bridge_state(settings, now)]
    assert lines[0].startswith(
        "Not connected to the broker at broker.local:1883: cannot reach the broker at "
        "broker.local:1883: Connection refused. It keeps trying"
    )
    assert lines[1] == "Commands from MQTT are refused: only states are published."

    settings.connected, settings.last_connected_at = True, now - timedelta(minutes=2)
    settings.accept_commands, settings.command_user = True, brewer
    lines = [line.text for line in bridge_state(settings, now)]
    assert lines == [
        "Connected to the broker at broker.local:1883 (2 min ago).",
        "Commands from MQTT are accepted, acting as brewer.",
    ]
