"""A small HTTP/1.1 client on asyncio streams: what the controller needs to reach the web app.

One kept-alive connection is reused from call to call. When the web app closed it while it was
idle, the next request goes on a fresh connection instead; a request that a reused connection
fails before any byte of an answer came back is sent once more on a fresh one (which is only
safe because every call of interfaces.md §1 is idempotent). Answers come with Content-Length,
chunked, or up to the connection's end, and none may be larger than MAX_ANSWER_BYTES. There are
no timeouts here: the caller bounds each call as a whole.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_ANSWER_BYTES = 4 * 1024 * 1024
MAX_HEAD_BYTES = 64 * 1024
USER_AGENT = "fermentrack-controller"
STATUS_LINE = re.compile(rb"HTTP/1\.([01]) ([1-5][0-9][0-9])(?: ([^\r\n]*))?\r?\n")


class HttpError(Exception):
    """No usable answer: the connection failed or closed, or what came back is not HTTP."""


class _NoAnswer(HttpError):
    """The connection failed before the first byte of an answer."""


@dataclass
class Response:
    status: int
    reason: str
    headers: dict[str, str]  # names in lower case
    body: bytes


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        self.writer.close()


class HttpClient:
    """Requests to one origin (`base_url`, its path a prefix of every target), one at a time
    per connection; concurrent requests each get a connection, and one is kept for the next."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"web app URL {base_url!r}: expected http://host:port or https://host")
        self.host = url.hostname
        self.port = url.port or (443 if url.scheme == "https" else 80)  # ValueError if bad
        # Only for https: the default context loads the system's CA certificates into memory.
        self.tls = ssl.create_default_context() if url.scheme == "https" else None
        self.path_prefix = url.path.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.headers = {
            "Host": f"{host}:{url.port}" if url.port else host,
            "User-Agent": USER_AGENT,
            **headers,
        }
        self._idle: _Connection | None = None
        self._closed = False

    async def request(
        self, method: str, path: str, body: bytes | None = None, content_type: str = ""
    ) -> Response:
        if self._closed:
            raise RuntimeError("the HTTP client was closed")
        head = [f"{method} {self.path_prefix}{path} HTTP/1.1"]
        head += [f"{name}: {value}" for name, value in self.headers.items()]
        if body is not None:
            head += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
        message = "\r\n".join([*head, "", ""]).encode("latin-1") + (body or b"")

        connection, self._idle = self._idle, None
        if connection is not None and connection.reader.at_eof():
            connection.close()  # the server closed it while it was idle
            connection = None
        reused = connection is not None
        if connection is None:
            connection = await self._connect()
        try:
            try:
                response, keep_alive = await _exchange(connection, method, message)
            except _NoAnswer:
                if not reused:
                    raise
                connection.close()  # closed by the server as the request went out
                connection = await self._connect()
                response, keep_alive = await _exchange(connection, method, message)
        except BaseException:  # a failure, or the caller's timeout: the stream is unusable
            connection.close()
            raise
        if keep_alive and self._idle is None and not self._closed:
            self._idle = connection
        else:
            connection.close()
        return response

    async def aclose(self) -> None:
        self._closed = True
        connection, self._idle = self._idle, None
        if connection is not None:
            connection.close()
            try:
                async with asyncio.timeout(1.0):
                    await connection.writer.wait_closed()
            except (OSError, TimeoutError):
                pass

    async def _connect(self) -> _Connection:
        try:
            reader, writer = await asyncio.open_connection(
                self.host, self.port, ssl=self.tls, limit=MAX_HEAD_BYTES
            )
        except OSError as error:
            raise HttpError(
                f"cannot connect to {self.host}:{self.port}: {type(error).__name__}: {error}"
            ) from None
        return _Connection(reader, writer)


async def _exchange(connection: _Connection, method: str, message: bytes) -> tuple[Response, bool]:
    """Send one request and read its answer; the answer and whether the connection may serve
    another request."""
    reader, writer = connection.reader, connection.writer
    try:
        writer.write(message)
        await writer.drain()
        first = await reader.read(1)
    except OSError as error:
        raise _NoAnswer(f"the connection failed: {type(error).__name__}: {error}") from None
    if not first:
        raise _NoAnswer("the server closed the connection without an answer")
    try:
        version, status, reason, headers = await _read_head(reader, first)
        while status < 200:  # an interim answer (we never ask for one): the real one follows
            version, status, reason, headers = await _read_head(reader, b"")
        body, until_closed = await _read_body(reader, method, status, headers)
    except asyncio.IncompleteReadError:
        raise HttpError("the server closed the connection in the middle of its answer") from None
    except asyncio.LimitOverrunError:
        raise HttpError(f"the answer's head is over {MAX_HEAD_BYTES} bytes") from None
    except OSError as error:
        raise HttpError(f"the connection failed: {type(error).__name__}: {error}") from None
    tokens = {token.strip() for token in headers.get("connection", "").lower().split(",")}
    keep_alive = version == "1.1" and "close" not in tokens and not until_closed
    return Response(status, reason, headers, body), keep_alive


async def _read_head(
    reader: asyncio.StreamReader, first: bytes
) -> tuple[str, int, str, dict[str, str]]:
    """The status line and header fields: (HTTP version, status, reason, headers)."""
    status_line = first + await reader.readuntil(b"\n")
    match = STATUS_LINE.fullmatch(status_line)
    if match is None:
        raise HttpError(f"the answer is not HTTP: {status_line[:80]!r}")
    headers: dict[str, str] = {}
    head_size = len(status_line)
    while (line := await reader.readuntil(b"\n")).strip():
        head_size += len(line)
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon or head_size > MAX_HEAD_BYTES:
            raise HttpError(f"the answer's head is not HTTP: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    reason = (match[3] or b"").decode("latin-1").strip()
    return f"1.{match[1].decode()}", int(match[2]), reason, headers


async def _read_body(
    reader: asyncio.StreamReader, method: str, status: int, headers: dict[str, str]
) -> tuple[bytes, bool]:
    """The answer's body, and whether it ran to the connection's end."""
    if method == "HEAD" or status in (204, 304):
        return b"", False
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks, size = [], 0
        while chunk_size := _number(await reader.readuntil(b"\n"), base=16):
            size += chunk_size
            _check_size(size)
            chunks.append(await reader.readexactly(chunk_size))
            await reader.readuntil(b"\n")
        while (await reader.readuntil(b"\n")).strip():  # trailer fields, unused
            pass
        return b"".join(chunks), False
    if "content-length" in headers:
        length = _number(headers["content-length"].encode(), base=10)
        _check_size(length)
        return await reader.readexactly(length), False
    body = bytearray()  # no length given: the answer runs to the connection's end
    while len(body) <= MAX_ANSWER_BYTES and (more := await reader.read(MAX_HEAD_BYTES)):
        body += more
    _check_size(len(body))
    return bytes(body), True


def _number(text: bytes, base: int) -> int:
    digits = text.split(b";", 1)[0].strip()  # a chunk size may carry extensions after ';'
    if not digits or not digits.isalnum() or len(digits) > 12:
        raise HttpError(f"the answer's length is not a number: {text[:40]!r}")
    try:
        return int(digits, base)
    except ValueError:
        raise HttpError(f"the answer's length is not a number: {text[:40]!r}") from None


def _check_size(size: int) -> None:
    if size > MAX_ANSWER_BYTES:
        raise HttpError(
            f"the answer is over {MAX_ANSWER_BYTES // 1024 // 1024} MB: not the web app"
        )
