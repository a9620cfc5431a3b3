"""An in-process python-telegram-bot transport that talks to :class:`FakeTelegram`.

Usage::

    fake = FakeTelegram()
    application = (
        ApplicationBuilder()
        .token(fake.token)
        .request(FakeTelegramRequest(fake))
        .get_updates_request(FakeTelegramRequest(fake))
        .build()
    )

The Bot then goes through PTB's real request path: ``BaseRequest.post`` builds the
``RequestData``, this class answers ``(status, json_bytes)`` and PTB itself parses the JSON and
raises ``BadRequest``/``Forbidden``/``RetryAfter``/... from the status code and description.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput

    from bot.testing.telegram_double import FakeTelegram, UploadedFile

__all__ = ["FakeTelegramRequest"]


def _json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _error(status: int, description: str) -> tuple[int, bytes]:
    return status, _json_bytes({"ok": False, "error_code": status, "description": description})


class FakeTelegramRequest(BaseRequest):
    """A :class:`telegram.request.BaseRequest` answering from a :class:`FakeTelegram`.

    Args:
        fake: The model to talk to.
        read_timeout: Value reported by :attr:`read_timeout` (PTB adds it to long-poll
            timeouts); nothing actually times out in-process.
    """

    def __init__(self, fake: FakeTelegram, read_timeout: float | None = 5.0) -> None:
        self._fake = fake
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        """Default read timeout in seconds."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answer a Bot API call or a file download from the model.

        Args:
            url: ``<base_url><token>/<method>`` or ``<base_file_url><token>/<file_path>``.
            method: HTTP method (ignored; Telegram accepts GET and POST alike).
            request_data: Parameters and files as PTB prepared them.
            read_timeout: Ignored.
            write_timeout: Ignored.
            connect_timeout: Ignored.
            pool_timeout: Ignored.

        Returns:
            ``(http_status, payload)``: Telegram's JSON for API calls, raw bytes for downloads.
        """
        path = unquote(urlsplit(url).path)
        if "/file/bot" in path:
            token, _, file_path = path.split("/file/bot", 1)[1].partition("/")
            if token != self._fake.token:
                return _error(401, "Unauthorized")
            content = self._fake.download(file_path)
            if content is None:
                return _error(404, "Not Found")
            return 200, content

        head, _, api_method = path.rpartition("/")
        token = head.rpartition("/")[2].removeprefix("bot")
        if token != self._fake.token:
            return _error(401, "Unauthorized")

        params: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        if request_data is not None:
            # ``parameters`` are plain Python values (reply_markup already a dict, chat_id an int
            # or str, datetimes as timestamps); InputFiles are not among them but in
            # ``multipart_data`` keyed by the parameter name or their attach:// name.
            params = dict(request_data.parameters)
            for name, (file_name, upload, mime_type) in request_data.multipart_data.items():
                data = upload if isinstance(upload, bytes) else upload.read()
                files[name] = (file_name, data, mime_type)

        status, body = await self._fake.handle_async(api_method, params, files)
        return status, _json_bytes(body)
