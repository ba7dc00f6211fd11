"""The log page: the last lines of a log file in FERMENTRACK_HOME/log/, never anything else."""

from __future__ import annotations

import pytest

from fermentrack.web.brewery import logs

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("FERMENTRACK_HOME", str(tmp_path))
    folder = tmp_path / "log"
    folder.mkdir()
    (folder / "fermentrack.log").write_text("".join(f"web line {n}\n" for n in range(1, 3001)))
    (folder / "dev-fridge-1-stdout.log").write_text("controller started\nconnected\n")
    (folder / "circusd.log").write_text("circusd up\n")
    (folder / "fermentrack.log.1").write_text("rotated away\n")
    (folder / "notes.txt").write_text("not a log\n")
    return folder


def test_the_log_page_lists_every_log_file_stack_logs_first(brewer_client, log_folder):
    page = brewer_client.get("/settings/logs/").content.decode()
    assert (
        page.index("fermentrack.log")
        < page.index("circusd.log")
        < page.index("dev-fridge-1-stdout.log")
    )
    assert "notes.txt" not in page and "fermentrack.log.1" not in page


def test_the_log_page_shows_the_last_100_lines_of_the_first_file_by_default(
    brewer_client, log_folder
):
    page = brewer_client.get("/settings/logs/").content.decode()
    assert "web line 3000\n" in page and "web line 2901\n" in page
    assert "web line 2900\n" not in page


def test_a_chosen_file_and_line_count_are_shown(brewer_client, log_folder):
    page = brewer_client.get(
        "/settings/logs/", {"file": "dev-fridge-1-stdout.log", "lines": "1"}
    ).content.decode()
    assert "connected" in page and "controller started" not in page


def test_up_to_2000_lines_can_be_shown(brewer_client, log_folder):
    page = brewer_client.get("/settings/logs/", {"lines": "2000"}).content.decode()
    assert "web line 1001\n" in page and "web line 1000\n" not in page


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("2001", "at most 2000 lines can be shown"),
        ("0", "show at least 1 line"),
        ("many", "expected a whole number of lines from 1 to 2000"),
    ],
)
def test_a_bad_line_count_is_refused_with_the_limits(brewer_client, log_folder, lines, message):
    response = brewer_client.get("/settings/logs/", {"lines": lines})
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize(
    "hostile",
    ["../../etc/passwd", "/etc/passwd", "..", "fermentrack.log/../../secret_key", "notes.txt"],
)
def test_a_file_outside_the_list_is_refused_and_not_read(brewer_client, log_folder, hostile):
    (log_folder.parent / "secret_key").write_text("do-not-show")
    response = brewer_client.get("/settings/logs/", {"file": hostile})
    assert response.status_code == 400
    page = response.content.decode()
    assert "there is no log file called" in page
    assert "root:" not in page and "do-not-show" not in page and "not a log" not in page


def test_a_symlink_out_of_the_log_folder_is_neither_listed_nor_read(brewer_client, log_folder):
    (log_folder.parent / "secret.log").write_text("do-not-show\n")
    (log_folder / "sneaky.log").symlink_to(log_folder.parent / "secret.log")
    (log_folder / "passwd.log").symlink_to("/etc/passwd")
    assert "sneaky.log" not in brewer_client.get("/settings/logs/").content.decode()
    for name in ("sneaky.log", "passwd.log"):
        page = brewer_client.get("/settings/logs/", {"file": name}).content.decode()
        assert "do-not-show" not in page and "root:" not in page


def test_an_empty_log_folder_says_so(brewer_client, tmp_path, monkeypatch):
    monkeypatch.setenv("FERMENTRACK_HOME", str(tmp_path))
    response = brewer_client.get("/settings/logs/")
    assert response.status_code == 200
    assert "No log files yet" in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in_from_logs(anonymous_client, log_folder):
    response = anonymous_client.get("/settings/logs/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_guests_may_not_read_logs(guest_client, log_folder):
    assert guest_client.get("/settings/logs/").status_code == 403


def test_admins_read_logs(admin_client, log_folder):
    assert admin_client.get("/settings/logs/").status_code == 200


def test_last_lines_reads_a_file_larger_than_one_block(tmp_path):
    path = tmp_path / "big.log"
    path.write_text("".join(f"{n:06d} {'x' * 200}\n" for n in range(2000)))
    lines = logs.last_lines(path, 1500)
    assert len(lines) == 1500
    assert lines[0].startswith("000500 ") and lines[-1].startswith("001999 ")


def test_last_lines_of_a_file_without_a_final_newline(tmp_path):
    path = tmp_path / "partial.log"
    path.write_text("one\ntwo\nthree")
    assert logs.last_lines(path, 2) == ["two", "three"]
    assert logs.last_lines(path, 10) == ["one", "two", "three"]


def test_last_lines_replaces_bytes_that_are_not_utf8(tmp_path):
    path = tmp_path / "binary.log"
    path.write_bytes(b"ok\n\xff\xfe broken\n")
    assert logs.last_lines(path, 5) == ["ok", "\ufffd\ufffd broken"]
