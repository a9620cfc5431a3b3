"""Telegram's error wording, the error the double answers, and the failures a test injects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ERR_CHAT_NOT_FOUND = "Bad Request: chat not found"


ERR_BLOCKED = "Forbidden: bot was blocked by the user"


ERR_CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"


ERR_TEXT_EMPTY = "Bad Request: message text is empty"


ERR_TOO_LONG = "Bad Request: message is too long"


ERR_CAPTION_TOO_LONG = "Bad Request: message caption is too long"


ERR_BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"


ERR_EDIT_NOT_FOUND = "Bad Request: message to edit not found"


ERR_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


ERR_QUERY_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)


ERR_DELETE_NOT_FOUND = "Bad Request: message to delete not found"


ERR_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)


ERR_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)


class TelegramApiError(Exception):
    """A Bot API error answer.

    Attributes:
        status: HTTP status code (also Telegram's ``error_code``).
        description: Telegram's description, e.g. ``"Bad Request: chat not found"``.
        retry_after: Seconds to wait, for 429 answers.
    """

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def to_body(self) -> dict[str, Any]:
        """Telegram's JSON error body."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(description: str) -> TelegramApiError:
    return TelegramApiError(400, description)


@dataclass
class Fault:
    """A failure injected into the next call of a Bot API method (see
    :meth:`FakeTelegram.fail_next`)."""

    method: str  # lower case
    status: int
    description: str
    applied: bool
    timeout: bool
    fired: bool = False


class FakeTimeout(Exception):
    """The injected "no answer" of a call; the transport turns it into a timeout."""
