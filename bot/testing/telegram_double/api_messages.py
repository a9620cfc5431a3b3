"""Bot API methods on messages: send, edit, delete, answer a button, get a file, chat action."""

from __future__ import annotations

from typing import Any

from bot.testing.html_check import utf16_len
from bot.testing.telegram_double.dispatch import Dispatch
from bot.testing.telegram_double.errors import (
    ERR_DELETE_NOT_FOUND,
    ERR_NOT_MODIFIED,
    ERR_QUERY_INVALID,
    ERR_TEXT_EMPTY,
    bad_request,
)
from bot.testing.telegram_double.model import (
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_DOWNLOAD_BYTES,
    CallbackAnswer,
    UploadedFile,
)
from bot.testing.telegram_double.params import CHAT_ACTIONS, as_int, int_param, parse_reply_markup


class MessageMethods(Dispatch):
    """``sendMessage``, ``sendDocument``, ``editMessageText``, ``deleteMessage`` and the like."""

    def _api_send_message(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        user = self._chat_user(p)
        text = p.get("text")
        if text is None or text == "":
            raise bad_request(ERR_TEXT_EMPTY)
        raw = str(text)
        rendered = self._render(raw, p.get("parse_mode"), p.get("entities"), caption=False)
        return self._send(user.user_id, p, raw, rendered)

    def _send_media(self, p: dict[str, Any], files: dict[str, UploadedFile], kind: str) -> Any:
        user = self._chat_user(p)
        stored = self._input_file(p, files, kind)
        raw = "" if p.get("caption") is None else str(p.get("caption"))
        rendered = self._render(raw, p.get("parse_mode"), p.get("caption_entities"), caption=True)
        return self._send(user.user_id, p, raw, rendered, **{kind: stored})

    def _send(
        self,
        chat_id: int,
        p: dict[str, Any],
        raw: str,
        rendered: tuple[str, list[dict[str, Any]], str | None],
        **media: Any,
    ) -> Any:
        """Deliver a rendered message of the bot: its keyboard and reply target checked, the
        flood limits applied, then written to the chat and counted."""
        plain, entities, mode = rendered
        rows, other = parse_reply_markup(p.get("reply_markup"))
        reply_to = self._reply_target(chat_id, p)
        self._check_rate(chat_id)
        msg = self._append_message(
            chat_id,
            from_bot=True,
            text=plain,
            raw_text=raw,
            parse_mode=mode,
            entities=entities,
            reply_markup=rows,
            other_markup=other,
            reply_to_message_id=reply_to,
            **media,
        )
        self.sent_count += 1
        self._log("sent", msg)
        return self.message_to_api(msg)

    def _api_send_document(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._send_media(p, files, "document")

    def _api_send_photo(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._send_media(p, files, "photo")

    def _api_edit_message_text(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        msg = self._message_to_edit(p)
        if msg.has_media:
            raise bad_request("Bad Request: there is no text in the message to edit")
        text = p.get("text")
        if text is None or text == "":
            raise bad_request(ERR_TEXT_EMPTY)
        raw = str(text)
        plain, entities, mode = self._render(
            raw, p.get("parse_mode"), p.get("entities"), caption=False
        )
        # Like Telegram: editing the text without reply_markup removes the inline keyboard.
        rows, _ = parse_reply_markup(p.get("reply_markup"))
        return self._replace_text(msg, raw, plain, entities, mode, rows)

    def _replace_text(
        self, msg: Any, raw: str, plain: str, entities: Any, mode: Any, rows: Any
    ) -> Any:
        """Apply an edit of a message's text or caption (Telegram refuses one that changes
        nothing) and answer the edited message."""
        if plain == msg.text and entities == msg.entities and rows == msg.reply_markup:
            raise bad_request(ERR_NOT_MODIFIED)
        previous = msg.text
        msg.text, msg.raw_text, msg.parse_mode, msg.entities = plain, raw, mode, entities
        msg.reply_markup = rows
        self._commit_edit(msg, text_changed=plain != previous, previous=previous)
        return self.message_to_api(msg)

    def _api_edit_message_caption(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        msg = self._message_to_edit(p)
        if not msg.has_media:
            raise bad_request("Bad Request: there is no caption in the message to edit")
        raw = "" if p.get("caption") is None else str(p.get("caption"))
        plain, entities, mode = self._render(
            raw, p.get("parse_mode"), p.get("caption_entities"), caption=True
        )
        rows, _ = parse_reply_markup(p.get("reply_markup"))
        return self._replace_text(msg, raw, plain, entities, mode, rows)

    def _api_edit_message_reply_markup(
        self, p: dict[str, Any], files: dict[str, UploadedFile]
    ) -> Any:
        msg = self._message_to_edit(p)
        rows, _ = parse_reply_markup(p.get("reply_markup"))
        if rows == msg.reply_markup:
            raise bad_request(ERR_NOT_MODIFIED)
        msg.reply_markup = rows
        self._commit_edit(msg, text_changed=False, previous=msg.text)
        return self.message_to_api(msg)

    def _api_answer_callback_query(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        query = self._queries.get(str(p.get("callback_query_id") or ""))
        if query is None or query.answered:
            raise bad_request(ERR_QUERY_INVALID)
        text = p.get("text")
        if text is not None and utf16_len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("Bad Request: MESSAGE_TOO_LONG")
        query.answered = True
        self.callback_answers.append(
            CallbackAnswer(
                callback_query_id=query.query_id,
                user_id=query.user_id,
                message_id=query.message_id,
                data=query.data,
                text=None if text is None else str(text),
                show_alert=bool(p.get("show_alert")),
                url=p.get("url"),
            )
        )
        return True

    def _api_delete_message(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        user = self._chat_user(p, sending=False)
        msg = self._find_message(user.user_id, int_param(p, "message_id", required=True))
        if msg is None:
            raise bad_request(ERR_DELETE_NOT_FOUND)
        msg.deleted = True
        self._log("deleted", msg)
        return True

    def _api_delete_messages(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        user = self._chat_user(p, sending=False)
        ids = p.get("message_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("Bad Request: message_ids must be a non-empty Array of at most 100")
        for raw_id in ids:
            msg = self._find_message(user.user_id, as_int(raw_id))
            if msg is not None:
                msg.deleted = True
                self._log("deleted", msg)
        return True

    def _api_get_file(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        stored = self._files.get(str(p.get("file_id") or ""))
        if stored is None:
            raise bad_request("Bad Request: invalid file_id")
        if stored.size > MAX_DOWNLOAD_BYTES:
            raise bad_request("Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    def _api_send_chat_action(self, p: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        user = self._chat_user(p)
        action = str(p.get("action") or "")
        if action not in CHAT_ACTIONS:
            raise bad_request("Bad Request: wrong parameter action in request")
        self.chat_actions.append((user.user_id, action))
        return True
