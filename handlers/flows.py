"""Guided conversations kept in the database (see :mod:`storage.drafts`).

A feature registers a :class:`Flow`: how to render its current step (used to resume after a
restart), and which steps accept typed text or files. Button presses are ordinary callback
handlers that check the draft is still at a step where that button makes sense
(:func:`guard`); everything else a person types reaches :func:`on_text`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from domain.errors import ChiboError, StaleAction
from domain.i18n import N_
from handlers.base import (
    Context,
    Env,
    Keyboard,
    button,
    error_text,
    load_env,
    log_refused,
    send,
    show,
)
from handlers.base import stranger_text as _stranger
from storage import drafts
from storage.models import Draft

Screen = tuple[str, Keyboard | None]
Render = Callable[[Env, Session, Draft], Screen]
Step = Callable[[Update, Context, Env, Draft], Awaitable[None]]


@dataclass
class Flow:
    """A guided conversation: its title, how to show its current step, its typed steps."""

    name: str
    title: str  # an English msgid marked with N_
    render: Render
    text_steps: dict[str, Step] = field(default_factory=dict)
    file_steps: dict[str, Step] = field(default_factory=dict)


FLOWS: dict[str, Flow] = {}


def register(flow: Flow) -> Flow:
    """Make a flow known to the router."""
    FLOWS[flow.name] = flow
    return flow


def guard(draft: Draft | None, draft_id: int, *states: str) -> Draft:
    """Return the draft if a button for ``draft_id`` at ``states`` is still current."""
    if draft is None or draft.id != draft_id or (states and draft.state not in states):
        raise StaleAction()
    return draft


async def show_current(update: Update, context: Context, env: Env, *, edit: bool) -> bool:
    """Show the step the person's conversation is at. Returns False when there is none."""
    assert env.who is not None
    with env.db.transaction() as session:
        draft = drafts.get(session, env.who.person_id)
        if draft is None or draft.flow not in FLOWS:
            return False
        text, rows = FLOWS[draft.flow].render(env, session, draft)
    if edit:
        await show(update, env, context, text, rows)
    else:
        await send(env, context, text, rows)
    return True


async def on_text(update: Update, context: Context) -> None:
    """Route typed text to the step of the conversation in progress."""
    await _route(update, context, "text")


async def on_file(update: Update, context: Context) -> None:
    """Route a photo or document to the step of the conversation in progress."""
    await _route(update, context, "file")


async def _route(update: Update, context: Context, kind: str) -> None:
    if update.effective_chat is None or update.effective_chat.type != "private":
        return
    env = load_env(update, context)
    if env.who is None:
        await send(env, context, _stranger(env))
        return
    with env.db.transaction() as session:
        draft = drafts.get(session, env.who.person_id)
    flow = FLOWS.get(draft.flow) if draft else None
    if draft is None or flow is None:
        if kind == "file":
            await send(
                env,
                context,
                env.t.gettext(
                    "I was not expecting a file. Nothing was saved. "
                    "Type /help to see what I can do."
                ),
            )
        else:
            await send(
                env,
                context,
                env.t.gettext("I did not understand that. Type /help to see what I can do."),
            )
        return
    steps = flow.text_steps if kind == "text" else flow.file_steps
    step = steps.get(draft.state)
    if step is None:
        hint = (
            N_("Please use the buttons below. (Nothing was saved from that message.)")
            if kind == "text" or steps == {}
            else N_("I was not expecting a file here. Please use the buttons below.")
        )
        await send(env, context, env.t.gettext(hint))
        await show_current(update, context, env, edit=False)
        return
    try:
        await step(update, context, env, draft)
    except ChiboError as exc:
        await send(env, context, error_text(env, exc))


@button
async def on_resume(update: Update, context: Context, env: Env) -> None:
    """Continues or discards the conversation a person left (after a restart or a pause)."""
    assert env.who is not None and update.callback_query is not None
    action = (update.callback_query.data or "").split(":")[-1]
    if action == "go":
        if not await show_current(update, context, env, edit=True):
            raise StaleAction()
        return
    with env.db.transaction() as session:
        had = drafts.finish(session, env.who.person_id)
    if not had:
        raise StaleAction()
    await show(update, env, context, env.t.gettext("Discarded. Nothing from it was saved."))


def resume_offer(env: Env, draft: Draft) -> Screen:
    """The "you were in the middle of …" message with continue / discard buttons."""
    title = env.t.gettext(FLOWS[draft.flow].title) if draft.flow in FLOWS else draft.flow
    text = env.t.gettext(
        "You were in the middle of: <b>{title}</b>. What you already answered is kept."
    ).format(title=title)
    return text, [
        [(env.t.gettext("▶️ Continue"), "resume:go"), (env.t.gettext("🗑 Discard"), "resume:drop")]
    ]


def handlers() -> list[object]:
    """The router's handlers; registered last so commands and buttons win."""
    return [
        CallbackQueryHandler(on_resume, pattern=r"^resume:(go|drop)$"),
        MessageHandler(filters.TEXT & ~filters.COMMAND, on_text),
        MessageHandler(filters.PHOTO | filters.Document.ALL, on_file),
        MessageHandler(filters.COMMAND, on_unknown_command),
    ]


async def on_unknown_command(update: Update, context: Context) -> None:
    """Answers a command nobody handles (a typo, or a feature this person cannot reach)."""
    if update.effective_chat is None or update.effective_chat.type != "private":
        return
    env = load_env(update, context)
    if env.who is None:
        await send(env, context, _stranger(env))
        return
    await send(
        env,
        context,
        env.t.gettext("I do not know that command. Type /help to see the commands you can use."),
    )


async def _stale_button(update: Update, context: Context) -> None:
    """Answers any button nobody handles (old versions, forged data)."""
    query = update.callback_query
    if query is None:
        return
    env = load_env(update, context)
    log_refused(query.data, StaleAction())
    await query.answer(error_text(env, StaleAction())[:200])


def fallback_handlers() -> list[object]:
    """Catch-alls, registered in the last group."""
    return [CallbackQueryHandler(_stale_button)]
