"""Domain exceptions raised by use cases and turned into friendly messages in one place."""

from __future__ import annotations

from typing import Any

from domain.i18n import N_


class ChiboError(Exception):
    """Base class: ``message`` is an English msgid translated when shown; ``params`` fill it."""

    message = N_("Something is not right with that request.")

    def __init__(self, message: str | None = None, **params: object) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message
        self.params = params

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle whole, whatever the subclass's ``__init__`` takes (an error raised in the
        document process reaches the bot with its message and params; the default pickling
        calls ``__init__`` with ``args`` only and loses ``params``)."""
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[ChiboError], args: tuple[Any, ...], state: dict[str, Any]) -> ChiboError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class NotAllowed(ChiboError):
    """The person's role does not allow this."""

    message = N_("Your role does not allow this.")


class NotInScope(ChiboError):
    """The target is outside the person's organizations."""

    message = N_("That organization is outside your scope.")


class InviteInvalid(ChiboError):
    """Unknown, malformed, used or expired invite code."""

    message = N_("This invite code is not valid. Please ask your office for a new one.")


class StaleAction(ChiboError):
    """A button from a finished or replaced conversation."""

    message = N_("This button is no longer active. Nothing was changed.")


class InvalidInput(ChiboError):
    """A typed value the bot cannot accept."""


class AlreadyRecorded(ChiboError):
    """A record that exists already (double tap, second device)."""

    message = N_("That has already been recorded.")


class NotFound(ChiboError):
    """The record does not exist (or no longer does)."""

    message = N_("That record no longer exists.")


class InviteAlreadyYours(ChiboError):
    """The invite was already redeemed by the same Telegram account."""

    message = N_(
        "You are already linked with this invite; there is nothing more to do. "
        "Type /help to see what you can do."
    )
