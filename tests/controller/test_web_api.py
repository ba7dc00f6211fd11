"""The controller's HTTP client against the real web app (interfaces.md §1), and against stand-in
peers for what the web app will not do on demand (503, 429, silence)."""

from __future__ import annotations

import asyncio
import time

import pytest

from fermentrack.controller.web_api import WebApi, WebRejected, WebUnavailable

from .web_app import StubWebServer, WebApp, free_port

T0 = 1_700_000_000


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    with WebApp(tmp_path_factory.mktemp("web-home")) as app:
        yield app


@pytest.fixture(scope="module")
def token(web):
    return web.add_device("fridge-1")


def call(url: str, token: str, method: str, *args, timeout: float = 5.0):
    async def go():
        async with WebApi(url, token, timeout=timeout) as api:
            return await getattr(api, method)(*args)

    return asyncio.run(go())


def point(ts: int, **values) -> dict:
    return {"ts": ts, "beer_temp": 19.5, "state": 4, "temp_format": "C", **values}


def test_the_config_names_the_device_and_its_link(web, token):
    config = call(web.url, token, "get_config")
    assert config["device"] == "fridge-1"
    assert config["link"] == "tcp://127.0.0.1:9"
    assert config["profile"] is None
    assert isinstance(config["config_version"], int)


def test_points_are_stored_and_sending_them_again_counts_duplicates(web, token):
    points = [point(T0 + 30 * n) for n in range(5)]
    assert call(web.url, token, "post_points", points) == {"stored": 5, "duplicates": 0}
    assert call(web.url, token, "post_points", points) == {"stored": 0, "duplicates": 5}
    assert web.point_timestamps("fridge-1") == [T0 + 30 * n for n in range(5)]


def test_annotations_and_status_are_taken(web, token):
    note = {"ts": T0, "text": "Fridge door opened", "source": "firmware"}
    assert call(web.url, token, "post_annotations", [note]) == {"stored": 1}
    assert "Fridge door opened" in web.annotation_texts("fridge-1")
    status = {"ts": T0, "connected": True, "mode": "beer_constant", "lcd": ["Mode Beer Const"]}
    assert set(call(web.url, token, "post_status", status)) == {"config_version"}


def test_a_malformed_point_is_rejected_with_the_web_apps_reason(web, token):
    with pytest.raises(WebRejected) as rejected:
        call(web.url, token, "post_points", [point(T0 + 1), point(T0 + 2, beer_temp=999)])
    assert rejected.value.status_code == 400
    assert "points[1].beer_temp" in rejected.value.detail
    assert "expected a temperature from -60 to 150" in rejected.value.detail
    assert T0 + 1 not in web.point_timestamps("fridge-1")  # all or nothing


def test_a_wrong_token_is_rejected_with_401(web, token):
    with pytest.raises(WebRejected) as rejected:
        call(web.url, "not-the-token", "post_points", [point(T0 + 3)])
    assert rejected.value.status_code == 401
    assert "Authorization: Bearer" in rejected.value.detail


def test_a_wrong_url_path_is_rejected_with_404(web, token):
    with pytest.raises(WebRejected) as rejected:
        call(f"{web.url}/api", token, "get_config")
    assert (rejected.value.status_code, rejected.value.detail) == (404, "404 Not Found")


def test_a_redirect_is_a_rejection_that_names_where_it_leads(web, token):
    with pytest.raises(WebRejected) as rejected:
        call(f"{web.url}/fermentrack", token, "get_config")  # first run: pages go to /setup/
    assert rejected.value.status_code == 302
    assert rejected.value.detail == "redirected to /setup/: check the web app URL"


def test_a_body_over_one_megabyte_is_rejected_with_413(web, token):
    notes = [{"ts": T0, "text": "ü" * 500, "source": "controller"} for _ in range(1000)]
    with pytest.raises(WebRejected) as rejected:
        call(web.url, token, "post_annotations", notes)
    assert rejected.value.status_code == 413


def test_no_web_app_listening_is_unavailable_at_once():
    started = time.monotonic()
    with pytest.raises(WebUnavailable, match="Connect"):
        call(f"http://127.0.0.1:{free_port()}", "token", "get_config")
    assert time.monotonic() - started < 1


def test_a_web_app_that_never_answers_is_unavailable_after_the_timeout():
    with StubWebServer(status=None) as silent:
        started = time.monotonic()
        with pytest.raises(WebUnavailable, match=r"no answer within 0.5 s"):
            call(silent.url, "token", "post_points", [point(T0)], timeout=0.5)
        assert 0.4 < time.monotonic() - started < 1.5


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_too_many_requests_are_unavailable(status):
    with (
        StubWebServer(status=status, detail="busy migrating") as stub,
        pytest.raises(WebUnavailable, match=f"HTTP {status}: busy migrating"),
    ):
        call(stub.url, "token", "post_points", [point(T0)])


@pytest.mark.parametrize("status", [403, 405, 422])
def test_other_client_errors_are_rejections(status):
    with StubWebServer(status=status, detail="no") as stub, pytest.raises(WebRejected) as rejected:
        call(stub.url, "token", "get_config")
    assert (rejected.value.status_code, rejected.value.detail) == (status, "no")


def test_an_answer_that_is_not_a_json_object_does_not_count_as_delivered():
    portal = StubWebServer(status=200, body=b"<html>Log in to the hotel Wi-Fi</html>")
    with portal, pytest.raises(WebUnavailable, match="not a JSON object"):
        call(portal.url, "token", "post_points", [point(T0)])


@pytest.mark.parametrize(
    ("url", "token", "message"),
    [
        ("127.0.0.1:8123", "t", "expected http://host:port"),
        ("http://127.0.0.1:8123", "line\nbreak", "cannot carry"),
    ],
)
def test_a_url_or_token_that_cannot_work_is_refused_at_once(url, token, message):
    with pytest.raises(ValueError, match=message):
        WebApi(url, token)
