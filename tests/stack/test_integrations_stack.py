"""The integrations inside the real stack: the spawner runs the `push` process once a push
target exists, the process sends the chamber's readings, and the watcher goes when the target
does."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from .stack_rig import eventually, post_form


class Recorder(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.received.append(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def recorder():
    Recorder.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_push_target_added_on_the_web_page_is_sent_by_the_push_process_the_spawner_runs(
    stack, recorder
):
    stack.quickstart()
    assert eventually(lambda: stack.point_times("chamber-1"), 90, "a point from chamber-1")
    assert "push" not in stack.statuses()  # nothing configured, no process
    browser = stack.browser()
    answer = post_form(
        browser,
        "/settings/push/add/generic/",
        {
            "name": "brewery-log",
            "active": "on",
            "url": f"http://127.0.0.1:{recorder.server_port}/log",
            "interval_s": "60",
            "send_controllers": "all",
            "send_sensors": "none",
        },
    )
    assert answer.status_code in (200, 302), answer.text[:500]
    assert stack.query("SELECT name FROM push_pushtarget") == [("brewery-log",)]

    stack.wait_active("push")
    body = eventually(lambda: Recorder.received and Recorder.received[0], 60, "a push received")
    (chamber,) = body["brewpi_devices"]
    assert chamber["name"] == "chamber-1"
    assert 0 < chamber["beer_temp"] < 40
    (target_id,) = stack.query("SELECT id FROM push_pushtarget")[0]
    assert eventually(
        lambda: stack.query("SELECT last_status FROM push_pushtarget")[0][0] == 200,
        30,
        "the result written back",
    )

    post_form(browser, f"/settings/push/{target_id}/delete/", {})
    eventually(lambda: "push" not in stack.statuses(), 30, "the push watcher removed")
    assert stack.statuses()["dev-chamber-1"] == "active"
