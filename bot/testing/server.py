"""An aiohttp HTTP server exposing :class:`FakeTelegram` as a Telegram Bot API endpoint.

A bot in another process points PTB at it with ``base_url=f"{server.base_url}/bot"`` and
``base_file_url=f"{server.base_url}/file/bot"``. Tests drive users through JSON control
endpoints under ``/_test/`` (see :class:`bot.testing.driver.HttpDriver`).

Run standalone::

    python -m bot.testing.server --port 8081 --token 123456:TEST-token [--no-rate-limits]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import sys
from dataclasses import asdict
from typing import Any

from aiohttp import web

from bot.testing.telegram_double import FakeTelegram, FakeTimeout, UploadedFile

__all__ = ["TelegramDoubleServer", "main"]

_MAX_BODY = 60 * 1024 * 1024


def _tg_error(status: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": status, "description": description}, status=status
    )


def _bad_request(message: str) -> web.Response:
    return web.json_response({"error": message}, status=400)


class TelegramDoubleServer:
    """HTTP front-end of a :class:`FakeTelegram`.

    Args:
        fake: The model to serve.
        host: Interface to bind.
        port: TCP port; 0 picks a free one.

    Attributes:
        base_url: ``http://host:port`` once started.
        port: The bound port once started.
    """

    def __init__(self, fake: FakeTelegram, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake
        self.host = host
        self.port = port
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._changed: asyncio.Condition | None = None

    async def __aenter__(self) -> TelegramDoubleServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _build_app(self) -> web.Application:
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._file)
        app.router.add_post("/_test/users", self._ctl_add_user)
        app.router.add_post("/_test/send", self._ctl_send)
        app.router.add_post("/_test/send_document", self._ctl_send_document)
        app.router.add_post("/_test/send_photo", self._ctl_send_photo)
        app.router.add_post("/_test/press", self._ctl_press)
        app.router.add_post("/_test/block", self._ctl_block)
        app.router.add_post("/_test/unblock", self._ctl_unblock)
        app.router.add_get("/_test/messages", self._ctl_messages)
        app.router.add_get("/_test/wait", self._ctl_wait)
        app.router.add_get("/_test/stats", self._ctl_stats)
        app.router.add_get("/_test/callback_answers", self._ctl_callback_answers)
        app.router.add_get("/_test/commands", self._ctl_commands)
        return app

    async def start(self) -> str:
        """Bind and serve.

        Returns:
            The base URL, e.g. ``http://127.0.0.1:40123``.
        """
        self._changed = asyncio.Condition()
        # handler_cancellation: a long poll whose client went away stops waiting at once.
        self._runner = web.AppRunner(
            self._build_app(), shutdown_timeout=1.0, handler_cancellation=True, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])
        self.base_url = f"http://{self.host}:{self.port}"
        return self.base_url

    async def stop(self) -> None:
        """End pending long polls and stop serving."""
        self.fake.release_waiters()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _notify(self) -> None:
        if self._changed is None:
            return
        async with self._changed:
            self._changed.notify_all()

    # ------------------------------------------------------------------ Bot API

    @staticmethod
    async def _read_params(
        request: web.Request,
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method == "GET" or not request.can_read_body:
            return params, files
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
            return params, files
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                files[name] = (value.filename, value.file.read(), value.content_type)
            else:
                params[name] = value
        return params, files

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.fake.token:
            return _tg_error(401, "Unauthorized")
        try:
            params, files = await self._read_params(request)
        except (ValueError, json.JSONDecodeError):
            return _tg_error(400, "Bad Request: can't parse request body")
        try:
            status, body = await self.fake.handle_async(
                request.match_info["method"], params, files
            )
        except FakeTimeout:
            # An injected "no answer at all" (FakeTelegram.fail_next(timeout=True)): the request
            # is held until the client gives up and hangs up, which cancels this handler.
            await self._notify()
            await asyncio.Event().wait()
        await self._notify()
        return web.json_response(body, status=status)

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.fake.token:
            return _tg_error(401, "Unauthorized")
        content = self.fake.download(request.match_info["file_path"])
        if content is None:
            return _tg_error(404, "Not Found")
        return web.Response(body=content, content_type="application/octet-stream")

    # ------------------------------------------------------------------ control API

    @staticmethod
    async def _json(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    async def _ctl_add_user(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        allowed = {"user_id", "first_name", "last_name", "username", "language_code"}
        try:
            user = self.fake.add_user(**{k: v for k, v in body.items() if k in allowed})
        except (TypeError, ValueError) as exc:
            return _bad_request(str(exc))
        return web.json_response(
            {**user.to_api(), "user_id": user.user_id, "chat_id": user.user_id}
        )

    async def _user_action(self, action: Any, *args: Any) -> web.Response:
        try:
            update = action(*args)
        except (KeyError, TypeError, ValueError) as exc:
            return _bad_request(str(exc))
        await self._notify()
        return web.json_response(update)

    async def _ctl_send(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        return await self._user_action(
            self.fake.user_sends_text, body.get("user_id"), body.get("text", "")
        )

    async def _ctl_send_document(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        try:
            content = base64.b64decode(body.get("content_b64", ""), validate=True)
        except ValueError as exc:
            return _bad_request(f"content_b64: {exc}")
        return await self._user_action(
            lambda: self.fake.user_sends_document(
                body["user_id"],
                body.get("file_name", "file.bin"),
                content,
                caption=body.get("caption"),
                mime_type=body.get("mime_type"),
            )
        )

    async def _ctl_send_photo(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        try:
            content = base64.b64decode(body.get("content_b64", ""), validate=True)
        except ValueError as exc:
            return _bad_request(f"content_b64: {exc}")
        return await self._user_action(
            lambda: self.fake.user_sends_photo(
                body["user_id"], content, caption=body.get("caption")
            )
        )

    async def _ctl_press(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        if "label" in body:
            return await self._user_action(
                self.fake.user_presses_label, body.get("user_id"), str(body["label"])
            )
        return await self._user_action(
            self.fake.user_presses,
            body.get("user_id"),
            body.get("message_id"),
            body.get("callback_data"),
        )

    async def _ctl_block(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        return await self._user_action(self.fake.block, body.get("user_id"))

    async def _ctl_unblock(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        return await self._user_action(self.fake.unblock, body.get("user_id"))

    @staticmethod
    def _query_int(request: web.Request, name: str, default: int | None = None) -> int:
        raw = request.query.get(name)
        if raw is None:
            if default is None:
                raise ValueError(f"missing query parameter {name}")
            return default
        return int(raw)

    def _transcript(self, chat_id: int, include_deleted: bool) -> list[dict[str, Any]]:
        return [m.to_json() for m in self.fake.messages(chat_id, include_deleted=include_deleted)]

    async def _ctl_messages(self, request: web.Request) -> web.Response:
        try:
            chat_id = self._query_int(request, "chat_id")
        except ValueError as exc:
            return _bad_request(str(exc))
        include_deleted = request.query.get("include_deleted", "").lower() in {"1", "true"}
        return web.json_response(self._transcript(chat_id, include_deleted))

    async def _ctl_wait(self, request: web.Request) -> web.Response:
        try:
            chat_id = self._query_int(request, "chat_id")
            count = self._query_int(request, "count", 1)
            timeout = float(request.query.get("timeout", "5"))
        except ValueError as exc:
            return _bad_request(str(exc))
        assert self._changed is not None

        def bot_count() -> int:
            return len(self.fake.bot_messages(chat_id, include_deleted=True))

        status = 200
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: bot_count() >= count), timeout
                )
            except TimeoutError:
                status = 408
        return web.json_response(
            {"count": bot_count(), "messages": self._transcript(chat_id, True)}, status=status
        )

    async def _ctl_stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "sent_count": self.fake.sent_count,
                "calls": len(self.fake.calls),
                "rate_limited": self.fake.rate_limited,
                "users": len(self.fake.users),
                "pending_updates": len(self.fake.pending_updates()),
            }
        )

    async def _ctl_callback_answers(self, request: web.Request) -> web.Response:
        return web.json_response([asdict(answer) for answer in self.fake.callback_answers])

    async def _ctl_commands(self, request: web.Request) -> web.Response:
        return web.json_response(
            self.fake.commands(
                request.query.get("scope_type", "default"), request.query.get("language_code", "")
            )
        )


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeTelegram(
        token=args.token, bot_username=args.bot_username, rate_limits=args.rate_limits
    )
    server = TelegramDoubleServer(fake, host=args.host, port=args.port)
    base_url = await server.start()
    print(base_url, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: serve a fresh FakeTelegram until interrupted."""
    parser = argparse.ArgumentParser(description="Telegram Bot API test double")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST-token")
    parser.add_argument("--bot-username", default="chibo_test_bot")
    parser.add_argument(
        "--rate-limits",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="enforce Telegram's flood limits (default: on)",
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
