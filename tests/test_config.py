"""FERMENTRACK_* settings: read in one place, and a bad value stops start-up naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fermentrack import config


def test_a_port_that_is_not_a_number_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv("FERMENTRACK_WEB_PORT", "eighty")
    with pytest.raises(config.ConfigError, match="FERMENTRACK_WEB_PORT='eighty'"):
        config.web_port()


def test_a_port_out_of_range_is_refused_with_the_allowed_range(monkeypatch):
    monkeypatch.setenv("FERMENTRACK_HTTP_PORT", "70000")
    with pytest.raises(config.ConfigError, match="from 1 to 65535"):
        config.http_port()


def test_booleans_accept_the_usual_words_and_refuse_others(monkeypatch):
    for text, expected in (("yes", True), ("0", False), ("On", True), ("false", False)):
        monkeypatch.setenv("FERMENTRACK_DEBUG", text)
        assert config.env_bool("FERMENTRACK_DEBUG", False) is expected
    monkeypatch.setenv("FERMENTRACK_DEBUG", "maybe")
    with pytest.raises(config.ConfigError, match="expected true or false"):
        config.env_bool("FERMENTRACK_DEBUG", False)


def test_unset_or_empty_variables_take_the_default(monkeypatch):
    monkeypatch.delenv("FERMENTRACK_WEB_PORT", raising=False)
    assert config.web_port() == config.DEFAULT_WEB_PORT
    monkeypatch.setenv("FERMENTRACK_WEB_PORT", "")
    assert config.web_port() == config.DEFAULT_WEB_PORT


def test_all_state_lives_under_fermentrack_home(monkeypatch, tmp_path):
    monkeypatch.setenv("FERMENTRACK_HOME", str(tmp_path))
    assert config.home() == tmp_path
    assert config.log_dir() == tmp_path / "log"
    assert config.controller_socket_path("fridge-1") == tmp_path / "run" / "dev-fridge-1.sock"


@pytest.mark.parametrize("name", ["my fridge!", "Fridge", "-lead", "", "a" * 49, "../etc", "x;rm"])
def test_hostile_or_odd_device_names_are_refused_with_the_rule(name):
    with pytest.raises(config.ConfigError, match="may hold only a-z, 0-9 and '-'"):
        config.check_device_name(name)


@pytest.mark.parametrize("name", ["brewpi1", "fridge-2", "a", "0" * 48])
def test_slug_device_names_are_accepted(name):
    assert config.check_device_name(name) == name


def test_the_command_stops_with_one_clear_line_on_a_bad_setting(tmp_path):
    env = {**os.environ, "FERMENTRACK_HOME": str(tmp_path), "FERMENTRACK_WEB_PORT": "abc"}
    result = subprocess.run(
        [sys.executable, "-m", "fermentrack.cli", "web"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "fermentrack web: FERMENTRACK_WEB_PORT='abc': expected a whole number"
    )


def test_the_homes_environment_file_fills_in_settings_cron_would_not_have(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "environ", os.environ.copy())  # nothing leaks into later tests
    monkeypatch.setenv("FERMENTRACK_HOME", str(tmp_path))
    monkeypatch.delenv("FERMENTRACK_WEB_PORT", raising=False)
    monkeypatch.setenv("FERMENTRACK_HTTP_PORT", "81")
    (tmp_path / "fermentrack.env").write_text(
        "# set by the brewer\n\nFERMENTRACK_WEB_PORT=9001\nFERMENTRACK_HTTP_PORT = 82\n"
        "DATABASE_URL='postgres://brewer:secret@db/fermentrack'\n"
    )
    monkeypatch.delenv("DATABASE_URL", raising=False)

    loaded = config.load_environment_file()

    assert config.web_port() == 9001
    assert config.http_port() == 81  # the environment wins over the file
    assert os.environ["DATABASE_URL"] == "postgres://brewer:secret@db/fermentrack"
    assert sorted(loaded) == ["DATABASE_URL", "FERMENTRACK_WEB_PORT"]


def test_a_line_of_the_environment_file_that_is_no_setting_stops_start_up_naming_it(tmp_path):
    (tmp_path / "fermentrack.env").write_text("FERMENTRACK_WEB_PORT=9001\nport 9002\n")
    env = {**os.environ, "FERMENTRACK_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "fermentrack.cli", "status"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert "fermentrack.env, line 2: expected NAME=value, got 'port 9002'" in result.stderr
