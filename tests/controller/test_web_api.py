"""The controller's HTTP client against the real web app (interfaces.md §1), and against stand-in
peers for what the web app will not do on demand (503, 429, silence) and for the wire itself
(keep-alive, chunked answers, garbage, TLS)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import ssl
import subprocess
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


def test_one_client_serves_a_run_of_calls_to_the_web_app(web, token):
    async def go():
        async with WebApi(web.url, token) as api:
            first = await api.get_config()
            await api.post_points([point(T0 + 600)])
            await api.post_status({"ts": T0, "connected": False})
            return first, await api.get_config()

    first, again = asyncio.run(go())
    assert first["device"] == again["device"] == "fridge-1"


# -- the wire, against small local peers ------------------------------------------------------


class Peer:
    """A local HTTP peer on asyncio streams running `handle(reader, writer)` on each connection
    it accepts (over TLS with `tls`, a server SSLContext); `connections` counts them."""

    def __init__(self, handle, tls: ssl.SSLContext | None = None) -> None:
        self.handle = handle
        self.tls = tls
        self.connections = 0
        self.url = ""

    async def __aenter__(self) -> Peer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        port = self.server.sockets[0].getsockname()[1]
        self.url = f"https://localhost:{port}" if self.tls else f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.server.close()

    async def _serve(self, reader, writer) -> None:
        self.connections += 1
        try:
            await self.handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def read_request(reader) -> tuple[str, dict[str, str], bytes]:
    """(request line, headers with lower-case names, body) of the next request."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    fields = (line.partition(":") for line in head[1:] if line)
    headers = {name.lower(): value.strip() for name, _, value in fields}
    return head[0], headers, await reader.readexactly(int(headers.get("content-length", 0)))


def answer(payload: object, *headers: str, status: str = "200 OK") -> bytes:
    body = json.dumps(payload).encode()
    head = [f"HTTP/1.1 {status}", "Content-Type: application/json", *headers]
    return "\r\n".join([*head, f"Content-Length: {len(body)}", "", ""]).encode() + body


async def answer_each_request(reader, writer, *headers: str) -> None:
    """Answer {"n": how many requests this connection carried} to each request, kept alive."""
    n = 0
    while True:
        await read_request(reader)
        n += 1
        writer.write(answer({"n": n}, *headers))
        await writer.drain()


def test_the_request_carries_the_token_the_host_with_its_port_and_a_json_body():
    seen = []

    async def handle(reader, writer):
        seen.append(await read_request(reader))
        writer.write(answer({"stored": 1, "duplicates": 0}))

    async def go():
        async with Peer(handle) as peer:
            async with WebApi(f"{peer.url}/fermentrack/", "s3cret") as api:
                await api.post_points([point(T0, beer_temp=None)])
            return peer.url.removeprefix("http://")

    host = asyncio.run(go())
    request_line, headers, body = seen[0]
    assert request_line == "POST /fermentrack/api/controller/points HTTP/1.1"
    assert headers["host"] == host
    assert headers["authorization"] == "Bearer s3cret"
    assert headers["user-agent"] == "fermentrack-controller"
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"points": [point(T0, beer_temp=None)]}


def test_calls_one_after_another_share_one_kept_alive_connection():
    async def go():
        async with Peer(answer_each_request) as peer, WebApi(peer.url, "token") as api:
            answers = [await api.get_config() for _ in range(3)]
            answers.append(await api.post_status({"ts": T0}))
            return answers, peer.connections

    answers, connections = asyncio.run(go())
    assert answers == [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]
    assert connections == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_without_an_error():
    async def handle(reader, writer):
        await read_request(reader)
        writer.write(answer({"n": 1}))  # kept alive, as far as the client knows
        await writer.drain()
        # then closed, as a web server's idle timeout does

    async def go():
        async with Peer(handle) as peer, WebApi(peer.url, "token") as api:
            first = await api.get_config()
            await asyncio.sleep(0.05)
            return first, await api.get_config(), peer.connections

    assert asyncio.run(go()) == ({"n": 1}, {"n": 1}, 2)


def test_a_request_lost_as_the_server_closes_a_kept_alive_connection_is_sent_again_once():
    async def handle(reader, writer):
        await read_request(reader)
        writer.write(answer({"n": 1}))
        await writer.drain()
        await read_request(reader)  # the next request arrives as the server gives up on it
        writer.transport.abort()

    async def go():
        async with Peer(handle) as peer, WebApi(peer.url, "token") as api:
            first = await api.get_config()
            return first, await api.get_config(), peer.connections

    assert asyncio.run(go()) == ({"n": 1}, {"n": 1}, 2)


def test_a_fresh_connection_closed_without_an_answer_is_unavailable_and_not_retried():
    async def handle(reader, writer):
        await read_request(reader)

    async def go():
        async with Peer(handle) as peer:
            with pytest.raises(WebUnavailable, match="closed the connection without an answer"):
                await WebApi(peer.url, "token").get_config()
            return peer.connections

    assert asyncio.run(go()) == 1


def test_connection_close_is_honoured_and_the_next_call_opens_a_new_connection():
    async def handle(reader, writer):
        await answer_each_request(reader, writer, "Connection: close")

    async def go():
        async with Peer(handle) as peer, WebApi(peer.url, "token") as api:
            answers = [await api.get_config(), await api.get_config()]
            return answers, peer.connections

    assert asyncio.run(go()) == ([{"n": 1}, {"n": 1}], 2)


def test_a_chunked_answer_is_read_whole_and_the_connection_serves_the_next_call():
    async def handle(reader, writer):
        while True:
            await read_request(reader)
            body = json.dumps({"config_version": 7, "lcd": ["x" * 3000]}).encode()
            head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            chunks = [body[:10], body[10:2000], body[2000:]]
            framed = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
            writer.write(head + framed + b"0\r\nX-Trailer: yes\r\n\r\n")
            await writer.drain()

    async def go():
        async with Peer(handle) as peer, WebApi(peer.url, "token") as api:
            answers = [await api.post_status({"ts": T0}), await api.post_status({"ts": T0})]
            return answers, peer.connections

    answers, connections = asyncio.run(go())
    assert answers[0] == answers[1] == {"config_version": 7, "lcd": ["x" * 3000]}
    assert connections == 1


def test_an_answer_running_to_the_connections_end_is_read_whole():
    async def handle(reader, writer):
        await read_request(reader)
        writer.write(b'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"stored": 2}')

    async def go():
        async with Peer(handle) as peer:
            return await WebApi(peer.url, "token").post_annotations([])

    assert asyncio.run(go()) == {"stored": 2}


@pytest.mark.parametrize("framing", ["content-length", "chunked", "to the end"])
def test_an_answer_over_four_megabytes_is_unavailable(framing):
    big = b"[" + b"0," * (2 * 1024 * 1024 + 10) + b"0]"

    async def handle(reader, writer):
        await read_request(reader)
        if framing == "content-length":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big))
        elif framing == "chunked":
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            chunks = (big[n : n + 0x10000] for n in range(0, len(big), 0x10000))
            writer.write(b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 200 OK\r\n\r\n" + big)
        await writer.drain()

    async def go():
        async with Peer(handle) as peer:
            with pytest.raises(WebUnavailable, match="over 4 MB"):
                await WebApi(peer.url, "token").get_config()

    asyncio.run(go())


@pytest.mark.parametrize("sent", [b"", b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n{"])
def test_a_server_that_accepts_and_never_finishes_answering_is_unavailable_after_the_timeout(sent):
    async def handle(reader, writer):
        await read_request(reader)
        writer.write(sent)
        await asyncio.sleep(10)

    async def go():
        async with Peer(handle) as peer:
            started = time.monotonic()
            with pytest.raises(WebUnavailable, match=r"no answer within 0.3 s"):
                await WebApi(peer.url, "token", timeout=0.3).get_config()
            return time.monotonic() - started

    assert 0.25 < asyncio.run(go()) < 1.0


@pytest.mark.parametrize(
    ("garbage", "message"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", "not HTTP: b'SSH-2.0"),
        (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\n", "not HTTP"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "head is not HTTP"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\n{}", "length is not a number"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "not a number"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", "in the middle of its answer"),
    ],
)
def test_a_server_that_answers_garbage_is_unavailable_at_once(garbage, message):
    async def handle(reader, writer):
        await read_request(reader)
        writer.write(garbage)
        await writer.drain()

    async def go():
        async with Peer(handle) as peer:
            with pytest.raises(WebUnavailable, match=re.escape(message)):
                await WebApi(peer.url, "token").get_config()

    asyncio.run(go())


def test_a_call_cut_short_by_its_caller_leaves_no_stale_answer_for_the_next_one():
    async def handle(reader, writer):
        _, _, body = await read_request(reader)
        await asyncio.sleep(0.3)
        writer.write(answer(json.loads(body)))
        await answer_each_request(reader, writer)

    async def go():
        async with Peer(handle) as peer, WebApi(peer.url, "token") as api:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(api.post_status({"late": True}), 0.1)
            return await api.post_status({"on_time": True}), peer.connections

    assert asyncio.run(go()) == ({"on_time": True}, 2)  # its own answer, not the late one's


def test_calls_made_at_the_same_time_each_get_their_own_answer():
    async def handle(reader, writer):
        while True:
            _, _, body = await read_request(reader)
            await asyncio.sleep(0.05)
            writer.write(answer(json.loads(body)))

    async def go():
        async with Peer(handle) as peer, WebApi(peer.url, "token") as api:
            return await asyncio.gather(*(api.post_status({"ts": n}) for n in range(3)))

    assert asyncio.run(go()) == [{"ts": 0}, {"ts": 1}, {"ts": 2}]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_an_https_web_app_is_reached_over_tls_on_one_kept_alive_connection(tmp_path, monkeypatch):
    key, certificate = tmp_path / "key.pem", tmp_path / "cert.pem"
    make = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost"
    extras = ["-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", certificate]
    subprocess.run([*make.split(), *extras], check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # trusted by this test only
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(certificate, key)

    async def go():
        async with Peer(answer_each_request, tls) as peer, WebApi(peer.url, "token") as api:
            return [await api.get_config(), await api.get_config()], peer.connections

    assert asyncio.run(go()) == ([{"n": 1}, {"n": 2}], 1)
