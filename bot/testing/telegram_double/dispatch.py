"""Answering a Bot API call: fault injection, method dispatch, and the checks every send shares."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from typing import Any

from bot.testing.html_check import HtmlParseError, parse_html, utf16_len
from bot.testing.telegram_double.errors import (
    ERR_BLOCKED,
    ERR_CANT_INITIATE,
    ERR_CAPTION_TOO_LONG,
    ERR_CHAT_NOT_FOUND,
    ERR_CONFLICT_POLL,
    ERR_EDIT_NOT_FOUND,
    ERR_TEXT_EMPTY,
    ERR_TOO_LONG,
    FakeTimeout,
    TelegramApiError,
    bad_request,
)
from bot.testing.telegram_double.model import (
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    FakeMessage,
    FakeUser,
    UploadedFile,
)
from bot.testing.telegram_double.params import (
    METHODS,
    as_float,
    as_int,
    decode_params,
    int_param,
    markdown_to_plain,
    trim,
)
from bot.testing.telegram_double.users import Users


class Dispatch(Users):
    """The entry points :meth:`handle` and :meth:`handle_async`, and what the methods share."""

    def handle(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, UploadedFile] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call.

        Args:
            method: Method name, case-insensitive (``sendMessage``, ``SENDMESSAGE``...).
            params: Parameters as Python values or as JSON-encoded strings (HTTP form style).
            files: Uploaded multipart files by field name.

        Returns:
            ``(http_status, body)`` where body is Telegram's JSON answer.
        """
        raw = dict(params or {})
        entry = METHODS.get(method.lower())
        name = entry[0] if entry else method
        try:
            decoded = decode_params(raw)
        except TelegramApiError as exc:
            self.calls.append((name, raw))
            return exc.status, exc.to_body()
        self.calls.append((name, decoded))
        self._wake_activity_waiters()
        if entry is None:
            return 404, TelegramApiError(404, "Not Found").to_body()
        fault = next((f for f in self._faults if f.method == name.lower()), None)
        if fault is not None:
            self._faults.remove(fault)
            fault.fired = True
            if fault.applied:
                try:
                    getattr(self, entry[1])(decoded, dict(files or {}))
                except TelegramApiError:
                    pass
            if fault.timeout:
                raise FakeTimeout(name)
            return fault.status, TelegramApiError(fault.status, fault.description).to_body()
        try:
            result = getattr(self, entry[1])(decoded, dict(files or {}))
        except TelegramApiError as exc:
            return exc.status, exc.to_body()
        return 200, {"ok": True, "result": result}

    async def handle_async(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, UploadedFile] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Like :meth:`handle`, plus ``getUpdates`` long polling.

        An empty ``getUpdates`` with ``timeout > 0`` waits until an update arrives or the
        timeout passes. A newer ``getUpdates`` terminates an older waiting one with Telegram's
        ``409 Conflict`` (two bot instances polling).
        """
        if method.lower() != "getupdates":
            return self.handle(method, params, files)
        self._poll_generation += 1
        generation = self._poll_generation
        released = self._release_generation
        if self._poll_waiter is not None and not self._poll_waiter.done():
            self._poll_waiter.set_result(False)  # the older long poll ends with a 409 conflict
        status, body = self.handle(method, params, files)
        if status != 200 or body["result"]:
            return status, body
        try:
            decoded = decode_params(dict(params or {}))
        except TelegramApiError:  # pragma: no cover - handle() already answered the error
            return status, body
        timeout = as_float(decoded.get("timeout")) or 0.0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        offset = as_int(decoded.get("offset"))
        limit = as_int(decoded.get("limit")) or 100
        while (remaining := deadline - loop.time()) > 0:
            await self._wait_update(remaining, poll=True)
            if self._poll_generation != generation:
                return 409, TelegramApiError(409, ERR_CONFLICT_POLL).to_body()
            if self._release_generation != released:
                break
            updates = self.pending_updates(offset, limit)
            if updates:
                return 200, {"ok": True, "result": updates}
        return 200, {"ok": True, "result": []}

    def _chat_user(self, params: Mapping[str, Any], *, sending: bool = True) -> FakeUser:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("Bad Request: chat_id is empty")
        chat_id = as_int(raw)
        user = self.users.get(chat_id) if chat_id is not None else None
        if user is None:
            raise bad_request(ERR_CHAT_NOT_FOUND)
        if sending:
            if user.blocked:
                raise TelegramApiError(403, ERR_BLOCKED)
            if self.require_start and not user.started:
                raise TelegramApiError(403, ERR_CANT_INITIATE)
        return user

    def _render(
        self, text: str, parse_mode: Any, entities: Any, *, caption: bool
    ) -> tuple[str, list[dict[str, Any]], str | None]:
        """Render text/caption like Telegram: parse markup, trim, check limits."""
        mode = str(parse_mode) if parse_mode else None
        if entities is not None:
            if not isinstance(entities, list) or not all(isinstance(e, Mapping) for e in entities):
                raise bad_request("Bad Request: can't parse entities JSON object")
            plain, parsed = text, [dict(e) for e in entities]
            mode = None
        elif mode is None:
            plain, parsed = text, []
        elif mode.lower() == "html":
            try:
                result = parse_html(text)
            except HtmlParseError as exc:
                raise bad_request(f"Bad Request: can't parse entities: {exc}") from None
            plain, parsed = result.text, result.entities
        elif mode.lower() in {"markdown", "markdownv2"}:
            plain, parsed = markdown_to_plain(text), []
        else:
            raise bad_request(f"Bad Request: unsupported parse_mode {mode}")
        plain, parsed = trim(plain, parsed)
        length = utf16_len(plain)
        if caption:
            if length > MAX_CAPTION_LENGTH:
                raise bad_request(ERR_CAPTION_TOO_LONG)
        else:
            if not plain:
                raise bad_request(ERR_TEXT_EMPTY)
            if length > MAX_TEXT_LENGTH:
                raise bad_request(ERR_TOO_LONG)
        return plain, parsed, mode

    def _reply_target(self, chat_id: int, params: Mapping[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        allow = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, Mapping):
            target = as_int(reply.get("message_id"))
            allow = allow or bool(reply.get("allow_sending_without_reply"))
        else:
            target = int_param(params, "reply_to_message_id")
        if target is None:
            return None
        if self._find_message(chat_id, target) is None:
            if allow:
                return None
            raise bad_request("Bad Request: message to be replied not found")
        return target

    def _check_rate(self, chat_id: int) -> None:
        if not self.rate_limits:
            return
        now = self._monotonic()
        wait = self._flood.wait_time(chat_id, now)
        if wait > 0:
            self.rate_limited += 1
            retry_after = max(1, math.ceil(wait))
            raise TelegramApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
        self._flood.take(chat_id, now)

    def _message_to_edit(self, params: Mapping[str, Any]) -> FakeMessage:
        if params.get("inline_message_id"):
            raise bad_request("Bad Request: MESSAGE_ID_INVALID")
        user = self._chat_user(params)
        msg = self._find_message(user.user_id, int_param(params, "message_id", required=True))
        if msg is None:
            raise bad_request(ERR_EDIT_NOT_FOUND)
        if not msg.from_bot:
            raise bad_request("Bad Request: message can't be edited")
        return msg

    def _commit_edit(self, msg: FakeMessage, *, text_changed: bool, previous: str) -> None:
        if text_changed:
            msg.history.append(previous)
        msg.edited_count += 1
        msg.edit_date = self._now()
        self._log("edited", msg)
