"""/candidates after a regular meeting with "new-member work": was the list considered?"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session
from telegram import Message, Update
from telegram.error import TelegramError

from domain.errors import AlreadyRecorded
from handlers.base import (
    Context,
    Env,
    button,
    keyboard,
    mark_saved,
    send,
)
from handlers.candidates.buttons import MEETING
from handlers.candidates.commands import _person
from handlers.incoming import pressed_keyboard
from storage import candidates as cs

log = logging.getLogger(__name__)


async def meeting_question(env: Env, meeting_id: int) -> tuple[str, list[tuple[str, str]]] | None:
    """The question (and its buttons) a saved regular meeting with "new-member work" asks
    once: did the cell consider its sympathizer list? None when there is nothing to ask."""

    def unit(session: Session) -> bool:
        return cs.meeting_asks(session, person_id=_person(env), meeting_id=meeting_id)

    ask = await env.run(unit)
    if not ask:
        return None
    _ = env.t.gettext
    return (
        _("The meeting covered new-member work. Did the cell consider its sympathizer list?"),
        [
            (_("Yes, record it"), MEETING.data(meeting_id, "y")),
            (_("No"), MEETING.data(meeting_id, "n")),
        ],
    )


@button
async def on_meeting_answer(update: Update, context: Context, env: Env) -> None:
    """Records (or not) that the meeting considered the list; the question is asked once."""
    meeting_id, answer = MEETING.args(update)
    if answer != "y":
        await env.load()
        env.who  # noqa: B018 - a stranger is refused before anything is said
        await _drop_question(update)
        await send(
            env,
            context,
            env.t.gettext("Not recorded. Use /candidates for the monthly consideration."),
        )
        return

    def unit(session: Session) -> cs.Considered:
        return cs.record_from_meeting(
            session, person_id=_person(env), meeting_id=meeting_id, now=env.now()
        )

    # Recorded first, then the question's buttons go: a failed edit (Telegram down, or slow
    # and applied) never takes the buttons away from an answer that was not recorded.
    try:
        done = await env.run(unit)
    except AlreadyRecorded:
        await _drop_question(update)
        await send(
            env, context, env.t.gettext("The consideration of that month was already recorded.")
        )
        return
    mark_saved(update)
    await _drop_question(update)
    await send(
        env,
        context,
        env.t.gettext("✅ Consideration of the sympathizer list recorded for {month}.").format(
            month=env.t.month(done.year, done.month)
        ),
    )


async def _drop_question(update: Update) -> None:
    """Take the answered question's buttons off the saved meeting's screen (its own text and
    buttons stay). Best effort: a question left showing is answered "already recorded"."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    shown = pressed_keyboard(query.message)
    if not shown:
        return
    kept = [
        row for row in shown if not any(data.startswith(MEETING.prefix + ":") for _l, data in row)
    ]
    try:
        await query.edit_message_reply_markup(keyboard(kept))
    except TelegramError as exc:
        log.warning("question left on screen: %s", type(exc).__name__)
