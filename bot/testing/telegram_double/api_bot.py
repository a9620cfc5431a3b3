"""Bot API methods on the bot itself: getMe, getUpdates, commands, webhook, menu, profile."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from bot.testing.html_check import utf16_len
from bot.testing.telegram_double.api_messages import MessageMethods
from bot.testing.telegram_double.errors import ERR_CONFLICT_WEBHOOK, TelegramApiError, bad_request
from bot.testing.telegram_double.model import UploadedFile
from bot.testing.telegram_double.params import BOT_COMMAND_NAME_RE, as_int, int_param


class BotMethods(MessageMethods):
    """``getMe``, ``getUpdates``, ``setMyCommands``, ``setWebhook``, ``setChatMenuButton``..."""

    def _api_get_me(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self.bot_user_api()

    def _api_get_updates(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if self.webhook_url:
            raise TelegramApiError(409, ERR_CONFLICT_WEBHOOK)
        offset = int_param(p, "offset")
        limit = int_param(p, "limit") or 100
        allowed = p.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = {str(a) for a in allowed} or None
        if offset is not None:
            self.confirm_updates(offset)
        # Telegram never delivers updates of types the bot did not ask for.
        self._updates = [u for u in self._updates if self._allowed(u)]
        return self.pending_updates(offset, limit)

    @staticmethod
    def _scope_key(p: Mapping[str, Any]) -> tuple[str, int | None, int | None, str]:
        scope = p.get("scope") or {"type": "default"}
        if not isinstance(scope, Mapping) or not isinstance(scope.get("type"), str):
            raise bad_request("Bad Request: can't parse BotCommandScope JSON object")
        return (
            scope["type"],
            as_int(scope.get("chat_id")),
            as_int(scope.get("user_id")),
            str(p.get("language_code") or ""),
        )

    def _api_set_my_commands(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("Bad Request: can't parse commands JSON object")
        cleaned: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, Mapping):
                raise bad_request("Bad Request: can't parse commands JSON object")
            name = str(command.get("command", ""))
            description = str(command.get("description", ""))
            if not BOT_COMMAND_NAME_RE.fullmatch(name):
                raise bad_request("Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._scope_key(p)
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    def _api_get_my_commands(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return copy.deepcopy(self._commands.get(self._scope_key(p), []))

    def _api_delete_my_commands(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self._commands.pop(self._scope_key(p), None)
        return True

    def _api_set_webhook(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self.webhook_url = str(p.get("url") or "")
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_delete_webhook(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self.webhook_url = ""
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_get_webhook_info(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _api_set_chat_menu_button(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = None
        if p.get("chat_id") not in (None, ""):
            chat_id = self._chat_user(p, sending=False).user_id
        button = p.get("menu_button") or {"type": "default"}
        if not isinstance(button, Mapping) or "type" not in button:
            raise bad_request("Bad Request: can't parse menu button JSON object")
        self.menu_buttons[chat_id] = dict(button)
        return True

    def _api_get_chat_menu_button(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = None
        if p.get("chat_id") not in (None, ""):
            chat_id = self._chat_user(p, sending=False).user_id
        return copy.deepcopy(
            self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {"type": "default"}
        )

    def _api_close(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    def _api_log_out(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    def _api_get_chat(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        user = self._chat_user(p, sending=False)
        return {
            **user.chat_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    def _set_profile(self, p: Mapping[str, Any], field_name: str, limit: int) -> bool:
        value = str(p.get(field_name) or "")
        if utf16_len(value) > limit:
            raise bad_request(f"Bad Request: {field_name} is too long")
        lang = str(p.get("language_code") or "")
        self.bot_profile[f"{field_name}:{lang}" if lang else field_name] = value
        return True

    def _api_set_my_name(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._set_profile(p, "name", 64)

    def _api_set_my_description(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._set_profile(p, "description", 512)

    def _api_set_my_short_description(
        self, p: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        return self._set_profile(p, "short_description", 120)
