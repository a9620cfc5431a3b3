"""/candidates after a regular meeting with "new-member work": was the list considered?"""

from __future__ import annotations

import logging

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


def meeting_question(env: Env, meeting_id: int) -> tuple[str, list[tuple[str, str]]] | None:
    """The question (and its buttons) a saved regular meeting with "new-member work" asks
    once: did the cell consider its sympathizer list? None when there is nothing to ask."""
    with env.db.transaction() as session:
        ask = cs.meeting_asks(session, person_id=_person(env), meeting_id=meeting_id)
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
    _ = env.t.gettext
    if answer != "y":
        await _drop_question(update)
        await send(env, context, _("Not recorded. Use /candidates for the monthly consideration."))
        return
    # Recorded first, then the question's buttons go: a failed edit (Telegram down, or slow
    # and applied) never takes the buttons away from an answer that was not recorded.
    try:
        with env.db.transaction() as session:
            done = cs.record_from_meeting(
                session, person_id=_person(env), meeting_id=meeting_id, now=env.now()
            )
    except AlreadyRecorded:
        await _drop_question(update)
        await send(env, context, _("The consideration of that month was already recorded."))
        return
    mark_saved(update)
    await _drop_question(update)
    await send(
        env,
        context,
        _("✅ Consideration of the sympathizer list recorded for {month}.").format(
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
