"""The bot's HTTP to the Bot API: PTB's request interface over aiohttp, and the event loop.

PTB sends every request through a :class:`telegram.request.BaseRequest`; its own,
``HTTPXRequest``, spends about half of a tap's CPU in httpx, httpcore and anyio on this
bot's traffic. :class:`AiohttpRequest` does the same job over aiohttp, with PTB's
timeouts, pool size and errors, and :func:`loop_factory` runs the bot on uvloop where it is
installed. Together they cut the CPU of an update by about a third and its latency by about
a quarter (``bench/bench_latency.py``; figures in the README).

Errors never carry the request's address, which holds the bot's token: a failure is
reported by its kind only (``NetworkError("aiohttp.ClientConnectorError")``).
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import certifi
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

#: PTB's defaults for ``HTTPXRequest``, kept so that the two are interchangeable.
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_WRITE_TIMEOUT = 20.0

#: The type of PTB's marker for a timeout not given (``BaseRequest.DEFAULT_NONE``).
_NOT_GIVEN = type(BaseRequest.DEFAULT_NONE)


class AiohttpRequest(BaseRequest):
    """PTB's request interface over one aiohttp session.

    Args:
        connection_pool_size: Connections open at once (PTB's default: 1).
        read_timeout: Seconds to wait for each part of the answer.
        write_timeout: Seconds to send a request (``media_write_timeout`` with files).
        connect_timeout: Seconds to open a connection.
        pool_timeout: Seconds to wait for a free connection of the pool.
        media_write_timeout: ``write_timeout`` of a request that uploads files.

    A request is bounded by the sum of its timeouts (aiohttp times connecting and reading,
    not writing); an elapsed one raises :class:`telegram.error.TimedOut`, any other failure
    of the connection :class:`telegram.error.NetworkError`. Proxies are taken from the
    environment (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``), as PTB's own layer does, once
    per host: aiohttp's own ``trust_env`` looks for a ``.netrc`` file on every request, which
    doubled a request's cost.
    """

    def __init__(
        self,
        connection_pool_size: int = 1,
        read_timeout: float | None = READ_TIMEOUT,
        write_timeout: float | None = WRITE_TIMEOUT,
        connect_timeout: float | None = CONNECT_TIMEOUT,
        pool_timeout: float | None = POOL_TIMEOUT,
        media_write_timeout: float | None = MEDIA_WRITE_TIMEOUT,
    ) -> None:
        self.connection_pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds the long poll's to it for ``getUpdates``)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (again, after :meth:`shutdown`)."""
        self._open()

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            context = ssl.create_default_context(cafile=certifi.where())
            connector = aiohttp.TCPConnector(limit=self.connection_pool_size, ssl=context)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
            )
        return self._session

    def proxy(self, url: str) -> str | None:
        """The proxy of the environment for ``url``'s scheme and host (None: connect directly)."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            bypass = key[1] and urllib.request.proxy_bypass(key[1])
            self._proxies[key] = None if bypass else urllib.request.getproxies().get(key[0])
        return self._proxies[key]

    def timeout(
        self, read: float | None, write: float | None, connect: float | None, pool: float | None
    ) -> aiohttp.ClientTimeout:
        """aiohttp's timeout for PTB's four: connecting and reading as they are, the whole
        request bounded by their sum (None: no bound)."""
        parts = (read, write, connect, pool)
        total = None if any(p is None for p in parts) else sum(p or 0.0 for p in parts)
        waiting = None if connect is None or pool is None else connect + pool
        return aiohttp.ClientTimeout(
            total=total, connect=waiting, sock_connect=connect, sock_read=read
        )

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; the answer's status and body. A timeout left to its default
        takes this request's own (``media_write_timeout`` for the writing of files)."""
        files = request_data is not None and request_data.contains_files
        write = self._media_write_timeout if files else self._write_timeout
        timeout = self.timeout(
            _given(read_timeout, self._read_timeout),
            _given(write_timeout, write),
            _given(connect_timeout, self._connect_timeout),
            _given(pool_timeout, self._pool_timeout),
        )
        session = self._open()
        try:
            async with session.request(
                method, url, data=body(request_data), timeout=timeout, proxy=self.proxy(url)
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's own timeouts are TimeoutErrors too
            raise TimedOut from err
        except aiohttp.ClientError as err:
            # Only the kind: aiohttp's messages may hold the address, and with it the token.
            raise NetworkError(f"aiohttp.{type(err).__name__}") from err


def _given(value: Any, default: float | None) -> float | None:
    """A timeout PTB passed, or ``default`` when it passed its "not given" marker."""
    return default if isinstance(value, _NOT_GIVEN) else value


def body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """A request's body as PTB builds it: form fields (each value JSON), and a multipart form
    when it uploads files."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    if not request_data.contains_files:
        return fields
    form = aiohttp.FormData(quote_fields=False)  # UTF-8 file names, as Telegram reads them
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mime) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mime)
    return form


def loop_factory(kind: str = "uvloop") -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop to run the bot on: uvloop's when asked for and installed (it is on
    Linux and macOS), else None for asyncio's own."""
    if kind != "uvloop":
        return None
    try:
        import uvloop  # optional: not built for every platform
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory
