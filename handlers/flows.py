"""The conversation engine: how a conversation starts, how each of its steps is saved, and what
the person is told when Telegram fails after a step was saved.

A feature declares a :class:`Flow`: its state enum's values, how to start it (``begin``, a use
case that creates the draft), how to render its current step (also used to resume after a
restart), which steps accept typed text or files, and what discarding it would lose. Progress
lives in one draft row per person (:mod:`storage.drafts`).

- :func:`start` begins a conversation — or, when another one is open and discarding it would
  lose something typed or tapped, keeps the request and offers "continue / discard", showing
  what would be lost. Nothing typed or tapped is thrown away without the person choosing it.
- :func:`step` runs one step use case in one transaction, notes that it was saved, and shows
  the next screen. Buttons and typed answers go through it alike.
- :func:`after_error` tells the truth when the reply failed: "saved, here is where you are"
  when the step was saved; never "nothing was saved" then.

The composition root (:mod:`bot.app`) lists the flows and hands them to :func:`install`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from domain.errors import ChiboError, StaleAction
from domain.i18n import N_
from domain.rules.meetings import is_marked_secret
from domain.text import h
from handlers.base import (
    Callback,
    Context,
    Env,
    Handlers,
    Keyboard,
    Stranger,
    Visitor,
    button,
    error_text,
    lazy_env,
    load_env,
    log_refused,
    mark_saved,
    send,
    show,
    was_saved,
)
from handlers.base import stranger_text as _stranger
from handlers.callbacks import ID, Family, choice
from storage import drafts
from storage.models import Draft

log = logging.getLogger(__name__)

#: "Continue", "discard", "discard it and start the other": the action and the conversation key.
RESUME = Family("resume", (choice("go", "drop", "new"), ID))
RESUME_UNKEYED = Family("resume", (choice("go", "drop"),))

Screen = tuple[str, Keyboard | None]
Render = Callable[[Env, Session, Draft], Screen]
Step = Callable[[Update, Context, Env, Draft], Awaitable[None]]
#: Creates the flow's draft (checking the person may) from the arguments it was started with.
Begin = Callable[[Env, Session, dict[str, Any]], Draft]
#: What discarding the draft would lose, one line each (empty: nothing unsaved).
Lost = Callable[[Env, Session, Draft], list[str]]
#: A button's step use case: ``(session, env, *the button's parsed arguments)`` → the draft.
ButtonStep = Callable[..., Draft]
#: A typed step use case: ``(session, env, the draft's key, the typed text)`` → the draft.
TextStep = Callable[[Session, Env, int, str], Draft]


@dataclass
class Flow:
    """A guided conversation: its title, how to start it and show its current step, its typed
    steps, and what discarding it would lose."""

    name: str
    title: str  # an English msgid marked with N_
    render: Render
    text_steps: dict[str, Step] = field(default_factory=dict)
    file_steps: dict[str, Step] = field(default_factory=dict)
    begin: Begin | None = None
    #: What discarding the draft would lose; a flow without it saves every step as it goes.
    lost: Lost | None = None


#: The flows the router knows, by name: set by :func:`install` from the composition root.
FLOWS: dict[str, Flow] = {}


def install(flows: Iterable[Flow]) -> None:
    """Make the application's flows known to the router (each name once)."""
    table: dict[str, Flow] = {}
    for flow in flows:
        if flow.name in table:
            raise ValueError(f"flow {flow.name!r} is listed twice")
        table[flow.name] = flow
    FLOWS.clear()
    FLOWS.update(table)


def guard(draft: Draft | None, draft_id: int, *states: str) -> Draft:
    """Return the draft if a button for ``draft_id`` at ``states`` is still current."""
    if draft is None or drafts.key(draft) != draft_id or (states and draft.state not in states):
        raise StaleAction()
    return draft


# --- Starting a conversation -----------------------------------------------------------------


async def start(
    update: Update,
    context: Context,
    env: Env,
    flow: str,
    args: dict[str, Any],
    *,
    same: Callable[[Draft], bool] | None = None,
    edit: bool = True,
) -> None:
    """Start ``flow`` with ``args`` (``edit``: into the pressed message, else a new one).

    When another conversation is open and discarding it would lose something, keep the
    request and offer "continue / discard" (showing what would be lost); when the open one is
    this very conversation (``same``), show where it is."""

    def unit(session: Session) -> Screen:
        existing = drafts.get(session, env.person_id)
        if existing is not None and existing.flow in FLOWS:
            if same is not None and same(existing):
                return FLOWS[existing.flow].render(env, session, existing)
            if _lost(env, session, existing):
                drafts.hold(existing, flow=flow, args=args, now=env.now())
                return offer(env, session, existing)
            # nothing typed or tapped would be lost: no question to ask
        return _begin(env, session, flow, args)

    screen = await env.run(unit)
    if edit:
        await show(update, env, context, *screen)
    else:
        await send(env, context, *screen)


def _begin(env: Env, session: Session, flow: str, args: dict[str, Any]) -> Screen:
    spec = FLOWS[flow]
    assert spec.begin is not None, f"flow {flow} cannot be started"
    draft = spec.begin(env, session, args)
    return spec.render(env, session, draft)


def _lost(env: Env, session: Session, draft: Draft) -> list[str]:
    spec = FLOWS.get(draft.flow)
    return spec.lost(env, session, draft) if spec is not None and spec.lost else []


def offer(env: Env, session: Session | None, draft: Draft) -> Screen:
    """ "You were in the middle of …", what discarding it loses, and the choices: continue it,
    discard it (and start what was asked for, when something was)."""
    _ = env.t.gettext
    spec = FLOWS.get(draft.flow)
    title = _(spec.title) if spec else draft.flow
    text = _("You were in the middle of: <b>{title}</b>.").format(title=h(title))
    lost = _lost(env, session, draft) if session is not None else []
    if lost:
        text += "\n" + _("Discarding it loses what is not saved yet:") + "\n"
        text += "\n".join("• " + line for line in lost)
    else:
        text += "\n" + _("Everything answered so far is already saved.")
    pending = drafts.held(draft)
    key = drafts.key(draft)
    rows: list[list[tuple[str, str]]] = [[(_("▶️ Continue"), RESUME.data("go", key))]]
    if pending is not None and pending[0] in FLOWS:
        new_title = _(FLOWS[pending[0]].title)
        rows.append(
            [
                (
                    _("🆕 Discard it and start: {title}").format(title=new_title),
                    RESUME.data("new", key),
                )
            ]
        )
    else:
        rows.append([(_("🗑 Discard"), RESUME.data("drop", key))])
    return text, rows


def resume_offer(env: Env, draft: Draft, session: Session | None = None) -> Screen:
    """The offer to continue or discard a conversation left open (after /start)."""
    return offer(env, session, draft)


@button
async def on_resume(update: Update, context: Context, env: Env) -> None:
    """Continues the open conversation, discards it, or discards it and starts the one
    that was asked for meanwhile."""
    query = update.callback_query
    assert query is not None
    key: int | None
    if (query.data or "").count(":") == 1:  # an offer sent before offers carried a key
        (action,) = RESUME_UNKEYED.parse(query.data)
        key = None
    else:
        action, key = RESUME.parse(query.data)

    def unit(session: Session) -> Screen:
        draft = drafts.get(session, env.person_id)
        if (
            draft is None
            or draft.flow not in FLOWS
            or (key is not None and drafts.key(draft) != key)
        ):
            raise StaleAction()
        if action == "go":
            if drafts.held(draft) is not None:
                draft.data = {k: v for k, v in draft.data.items() if k != drafts.PENDING}
            return FLOWS[draft.flow].render(env, session, draft)
        if action == "new":
            pending = drafts.held(draft)
            if pending is None or pending[0] not in FLOWS:
                raise StaleAction()
            return _begin(env, session, *pending)
        drafts.finish(session, env.person_id)
        return (env.t.gettext("Discarded. Nothing from it was saved."), None)

    screen = await env.run(unit)
    mark_saved(update)
    await show(update, env, context, *screen)


async def show_current(update: Update, context: Context, env: Env, *, edit: bool) -> bool:
    """Show the step the person's conversation is at. Returns False when there is none."""

    def unit(session: Session) -> Screen | None:
        draft = drafts.get(session, env.person_id)
        if draft is None or draft.flow not in FLOWS:
            return None
        return FLOWS[draft.flow].render(env, session, draft)

    screen = await env.run(unit)
    if screen is None:
        return False
    if edit:
        await show(update, env, context, *screen)
    else:
        await send(env, context, *screen)
    return True


# --- Saving a step -----------------------------------------------------------------------------


async def step(
    update: Update,
    context: Context,
    env: Env,
    use_case: Callable[[Session], Draft | None],
    *,
    render: Render,
    done: Callable[[Session], Screen] | None = None,
) -> None:
    """Run one step: ``use_case`` changes the draft (and any record) in one transaction, the
    next screen is rendered in it; then the step counts as saved and the screen is shown
    (edited into the pressed message, or sent after typed input). A use case that ends the
    conversation returns None and ``done`` renders what follows."""

    def unit(session: Session) -> Screen:
        draft = use_case(session)
        if draft is not None:
            return render(env, session, draft)
        assert done is not None
        return done(session)

    # On the database's threads: other people's replies do not wait for this step.
    screen = await env.run(unit)
    mark_saved(update)
    await show(update, env, context, *screen)


def step_buttons(table: Iterable[tuple[Family, ButtonStep]], render: Render) -> Handlers:
    """The handlers of a flow's step buttons, one per ``(family, use case)`` row: parse the
    pressed button's data by its family, run the use case as one :func:`step`, show the next
    screen with ``render``. A row of the table is all a new button of that shape needs."""
    return [family.handler(_step_button(family, use_case, render)) for family, use_case in table]


def _step_button(family: Family, use_case: ButtonStep, render: Render) -> Callback:
    async def on_press(update: Update, context: Context, env: Env) -> None:
        args = family.args(update)
        await step(update, context, env, lambda s: use_case(s, env, *args), render=render)

    on_press.__name__ = on_press.__qualname__ = "on_" + use_case.__name__.lstrip("_")
    on_press.__doc__ = use_case.__doc__
    return button(on_press)


@dataclass(frozen=True)
class TypedStep:
    """A flow's typed step: the text goes to ``use_case`` with the draft's key, as one
    :func:`step`, and the next screen is sent. The router runs it in the same transaction as
    the read that found the draft (:func:`_route`)."""

    use_case: TextStep
    render: Render

    async def __call__(self, update: Update, context: Context, env: Env, draft: Draft) -> None:
        key = drafts.key(draft)
        text = _typed_text(update)
        await step(
            update, context, env, lambda s: self.use_case(s, env, key, text), render=self.render
        )

    def run(self, session: Session, env: Env, draft: Draft, text: str) -> Screen:
        """Save the step and render the next screen, in ``session``."""
        return self.render(env, session, self.use_case(session, env, drafts.key(draft), text))


def typed_step(use_case: TextStep, render: Render) -> Step:
    """A flow's typed step (see :class:`TypedStep`)."""
    return TypedStep(use_case, render)


def _typed_text(update: Update) -> str:
    return update.effective_message.text or "" if update.effective_message else ""


# --- Typed text and files ------------------------------------------------------------------------


async def on_text(update: Update, context: Context) -> None:
    """Route typed text to the step of the conversation in progress."""
    await _route(update, context, "text")


async def on_file(update: Update, context: Context) -> None:
    """Refuse a document marked secret in any chat; route other files to the conversation."""
    if await refuse_secret(update, context):
        return
    await _route(update, context, "file")


#: Shown when an attachment is marked secret. Source: domain.rules.meetings.RULE_SOURCE_SECRET.
SECRET_REFUSAL = N_(
    "⛔ This looks like a document marked secret (Mật / Tối mật / Tuyệt mật). Documents "
    "marked secret must never be sent through this bot, and nothing was saved. Please delete "
    "it from this chat. If it is not secret, rename the file or change the caption and send "
    "it again."
)


async def refuse_secret(update: Update, context: Context) -> bool:
    """A photo or file whose name or caption carries a secrecy mark is deleted from the chat
    (best effort) and refused with the explanation — in any chat, inside a conversation or
    not. Returns whether it was refused."""
    msg = update.effective_message
    if msg is None or not (msg.document or msg.photo):
        return False
    name = msg.document.file_name if msg.document else None
    if not is_marked_secret(name, msg.caption):
        return False
    try:
        await msg.delete()
    except TelegramError:
        pass  # no right to delete here (a group), or too old: the explanation still goes out
    visitor = load_env(update, context)
    await visitor.load()
    await send(visitor, context, visitor.t.gettext(SECRET_REFUSAL))
    return True


async def _route(update: Update, context: Context, kind: str) -> None:
    if update.effective_chat is None or update.effective_chat.type != "private":
        return
    env = lazy_env(update, context)
    text = _typed_text(update)

    def unit(session: Session) -> tuple[Draft | None, Step | None, Screen | None]:
        # One transaction: find the draft and its step and, for a typed step of the usual
        # shape, save the step and render the next screen (a tap costs one transaction; so
        # does typing).
        draft = drafts.get(session, env.person_id)
        found = _step_for(draft, kind)
        if isinstance(found, TypedStep) and draft is not None:
            return draft, found, found.run(session, env, draft, text)
        return draft, found, None

    try:
        draft, found, screen = await env.run(unit)
    except Stranger:
        visitor = env.visitor()
        await send(visitor, context, _stranger(visitor))
        return
    except ChiboError as exc:
        await send(env, context, error_text(env, exc))
        return
    if screen is not None:
        mark_saved(update)
        await show(update, env, context, *screen)
        was_saved(update)  # answered: forget the mark
        return
    if draft is None or FLOWS.get(draft.flow) is None:
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
    if found is None:
        hint = (
            N_("Please use the buttons below. (Nothing was saved from that message.)")
            if kind == "text" or _steps(draft, kind) == {}
            else N_("I was not expecting a file here. Please use the buttons below.")
        )
        await send(env, context, env.t.gettext(hint))
        await show_current(update, context, env, edit=False)
        return
    try:
        await found(update, context, env, draft)
    except ChiboError as exc:
        await send(env, context, error_text(env, exc))
        return
    was_saved(update)  # answered: forget the mark


def _steps(draft: Draft, kind: str) -> dict[str, Step]:
    """The draft's flow's steps that take typed text (``kind`` "text") or files."""
    flow = FLOWS.get(draft.flow)
    if flow is None:
        return {}
    return flow.text_steps if kind == "text" else flow.file_steps


def _step_for(draft: Draft | None, kind: str) -> Step | None:
    """The step that takes this text or file at the draft's current state, if any."""
    return _steps(draft, kind).get(draft.state) if draft is not None else None


# --- After a Telegram error ----------------------------------------------------------------------


async def after_error(update: object, context: Context) -> None:
    """Tell the person what happened when an update failed. A step saved before the reply
    failed is said to be saved, and the current step is shown again; a read-only answer (a
    list, a document) that could not be sent never speaks of saving."""
    saved = was_saved(update)
    if not isinstance(update, Update) or update.effective_user is None:
        return
    visitor = load_env(update, context)
    await visitor.load()
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError:
            pass  # best effort, the message below matters more
    _ = visitor.t.gettext
    env = visitor.known()
    if saved and env is not None:
        await send(
            env,
            context,
            _(
                "✅ That step was saved, but Telegram failed to show my reply. "
                "Here is where you are now:"
            ),
        )
        if not await show_current(update, context, env, edit=False):
            await send(env, context, _("The conversation is finished; nothing more is needed."))
        return
    if isinstance(context.error, TelegramError):
        await send(
            visitor,
            context,
            _("Sorry, Telegram failed to deliver my answer. Please try again."),
        )
        return
    await send(
        visitor,
        context,
        _(
            "Sorry, something went wrong and nothing was saved from that step. "
            "Please try again; if it happens again, tell your office."
        ),
    )


# --- Wiring --------------------------------------------------------------------------------------


def handlers() -> Handlers:
    """The router's handlers; registered last so commands and buttons win."""
    return [
        RESUME.handler(on_resume),
        RESUME_UNKEYED.handler(on_resume),
        MessageHandler(filters.TEXT & ~filters.COMMAND, on_text),
        MessageHandler(filters.PHOTO | filters.Document.ALL, on_file),
        MessageHandler(filters.COMMAND, on_unknown_command),
    ]


async def on_unknown_command(update: Update, context: Context) -> None:
    """Answers a command nobody handles (a typo, or a feature this person cannot reach)."""
    if update.effective_chat is None or update.effective_chat.type != "private":
        return
    visitor = load_env(update, context)
    await visitor.load()
    if visitor.who is None:
        await send(visitor, context, _stranger(visitor))
        return
    await send(
        visitor,
        context,
        visitor.t.gettext(
            "I do not know that command. Type /help to see the commands you can use."
        ),
    )


async def _stale_button(update: Update, context: Context) -> None:
    """Answers any button nobody handles (old versions, forged data)."""
    query = update.callback_query
    if query is None:
        return
    env: Visitor = load_env(update, context)
    await env.load()
    log_refused(query.data, StaleAction())
    await query.answer(error_text(env, StaleAction())[:200])


def fallback_handlers() -> Handlers:
    """Catch-alls, registered in the last group."""
    return [CallbackQueryHandler(_stale_button)]
