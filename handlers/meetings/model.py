"""/model: the cell's Hồ Chí Minh study model."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from telegram import Update

from domain.errors import NotInScope
from domain.i18n import N_
from domain.text import h, truncate
from handlers import flows
from handlers.base import (
    Context,
    Env,
    button,
    command,
    mark_saved,
    send,
    show,
)
from handlers.meetings.buttons import (
    MDL_CELL,
    MDL_CP,
    MDL_NEW,
    MDL_RM,
    MDL_RMY,
    MDL_RV,
    MDL_X,
    Rows,
    Screen,
)
from handlers.meetings.log import _person
from storage import drafts
from storage import meetings as m
from storage.models import Draft


def _model_screen(env: Env, ov: m.ModelOverview) -> Screen:
    _ = env.t.gettext
    lines = [
        _("<b>🌟 “Learn from and follow Uncle Hồ” model — {cell}</b>").format(cell=h(ov.org.name))
    ]
    rows: Rows = []
    if not ov.models:
        lines.append(
            _(
                "No model is registered for {year} yet. Each cell needs at least one, fitted to "
                "its work, registered and reviewed every year."
            ).format(year=ov.year)
        )
    for model in ov.models:
        line = (
            "• "
            + h(model.title)
            + " — "
            + _("registered {date}").format(date=env.t.date(model.registered_on))
        )
        if model.reviewed_on:
            line += "; " + _("reviewed {date}: {result}").format(
                date=env.t.date(model.reviewed_on), result=h(model.result or "")
            )
        lines.append(line)
        rows.append(
            [
                (
                    _("📝 Review: {title}").format(title=truncate(model.title, 30)),
                    MDL_RV.data(model.id),
                ),
                (_("🗑 Remove"), MDL_RM.data(model.id)),
            ]
        )
    for model in ov.carry_over:
        rows.append(
            [
                (
                    _("🔁 Keep “{title}” for {year}").format(
                        title=truncate(model.title, 30), year=ov.year
                    ),
                    MDL_CP.data(model.id),
                )
            ]
        )
    rows.append([(_("➕ Register a model"), MDL_NEW.data(ov.org.id))])
    return "\n".join(lines), rows


@command("model")
async def model_command(update: Update, context: Context, env: Env) -> None:
    """Shows the cell's study models, or asks which cell."""

    def unit(session: Session) -> Screen:
        cells = m.writable_cells(session, person_id=_person(env))
        if len(cells) == 1:
            return _model_screen(
                env,
                m.model_overview(
                    session, person_id=_person(env), org_id=cells[0].id, today=env.today()
                ),
            )
        return (
            env.t.gettext("Which cell?"),
            [[(truncate(f"{c.code} — {c.name}", 60), MDL_CELL.data(c.id))] for c in cells],
        )

    await send(env, context, *await env.run(unit))


@button
async def on_model_cell(update: Update, context: Context, env: Env) -> None:
    """Shows one cell's study models."""
    org_id = MDL_CELL.args(update)[0]

    def unit(session: Session) -> Screen:
        ov = m.model_overview(session, person_id=_person(env), org_id=org_id, today=env.today())
        return _model_screen(env, ov)

    await show(update, env, context, *await env.run(unit))


def _begin_model(env: Env, session: Session, args: dict[str, Any]) -> Draft:
    """Ask for a new model's name, or (``model_id``) the result of its yearly review."""
    return m.start_model_entry(
        session,
        person_id=env.person_id,
        org_id=int(args["org_id"]),
        model_id=int(args["model_id"]) if args.get("model_id") else None,
        now=env.now(),
    )


async def _start_model(
    update: Update, context: Context, env: Env, org_id: int, model_id: int | None
) -> None:
    def same(d: Draft) -> bool:
        return (
            d.flow == m.MODEL_FLOW
            and d.data.get("org_id") == org_id
            and d.data.get("model_id") == model_id
        )

    args = {"org_id": org_id, "model_id": model_id}
    await flows.start(update, context, env, m.MODEL_FLOW, args, same=same)


@button
async def on_model_new(update: Update, context: Context, env: Env) -> None:
    """Asks for the new model's name."""
    org_id = MDL_NEW.args(update)[0]

    def unit(session: Session) -> None:
        if org_id not in {c.id for c in m.writable_cells(session, person_id=_person(env))}:
            raise NotInScope()

    await env.run(unit)
    await _start_model(update, context, env, org_id, None)


@button
async def on_model_review(update: Update, context: Context, env: Env) -> None:
    """Asks for the result of the model's yearly review."""
    model_id = MDL_RV.args(update)[0]

    def unit(session: Session) -> int:
        return m.model_org(session, person_id=_person(env), model_id=model_id)

    org_id = await env.run(unit)
    await _start_model(update, context, env, org_id, model_id)


@button
async def on_model_copy(update: Update, context: Context, env: Env) -> None:
    """Registers last year's model again for this year."""
    model_id = MDL_CP.args(update)[0]

    def unit(session: Session) -> Screen:
        row = m.carry_over_model(
            session, person_id=_person(env), model_id=model_id, today=env.today(), now=env.now()
        )
        org_id = m.model_org(session, person_id=_person(env), model_id=row.id)
        ov = m.model_overview(session, person_id=_person(env), org_id=org_id, today=env.today())
        return _model_screen(env, ov)

    screen = await env.run(unit)
    mark_saved(update)
    await show(update, env, context, *screen)


@button
async def on_model_remove_ask(update: Update, context: Context, env: Env) -> None:
    """Asks to confirm removing a model."""
    model_id = MDL_RM.args(update)[0]

    def unit(session: Session) -> int:
        return m.model_org(session, person_id=_person(env), model_id=model_id)

    org_id = await env.run(unit)
    _ = env.t.gettext
    await show(
        update,
        env,
        context,
        _("Remove this model? Use this only for a model registered by mistake."),
        [
            [(_("🗑 Yes, remove it"), MDL_RMY.data(model_id))],
            [(_("◀ Back"), MDL_CELL.data(org_id))],
        ],
    )


@button
async def on_model_remove(update: Update, context: Context, env: Env) -> None:
    """Removes a model (soft delete, audited)."""
    model_id = MDL_RMY.args(update)[0]

    def unit(session: Session) -> Screen:
        org_id = m.delete_model(session, person_id=_person(env), model_id=model_id, now=env.now())
        ov = m.model_overview(session, person_id=_person(env), org_id=org_id, today=env.today())
        return _model_screen(env, ov)

    screen = await env.run(unit)
    mark_saved(update)
    await show(update, env, context, *screen)


@button
async def on_model_cancel(update: Update, context: Context, env: Env) -> None:
    """Leaves the model entry and shows the models again."""
    org_id = MDL_X.args(update)[0]

    def unit(session: Session) -> Screen:
        m.cancel_model_entry(session, person_id=_person(env))
        ov = m.model_overview(session, person_id=_person(env), org_id=org_id, today=env.today())
        return _model_screen(env, ov)

    await show(update, env, context, *await env.run(unit))


def render_model(env: Env, session: Session, draft: Draft) -> Screen:
    """Show the step of the /model conversation (a typed answer is awaited)."""
    _ = env.t.gettext
    if draft.state == m.ModelState.RESULT:
        text = _("Type the result of this year's review of the model (at most 500 characters).")
    else:
        text = _(
            "Type the name of the model (at most 300 characters), for example: "
            "“Kỷ cương, tận tụy, vì người bệnh”."
        )
    return text, [[(_("✖ Cancel"), MDL_X.data(draft.data.get("org_id", 0)))]]


async def _model_text(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Saves the typed model name or review result and shows the models."""
    assert update.effective_message is not None
    typed = update.effective_message.text or ""
    key = drafts.key(draft)
    saved: list[int] = []

    def save(session: Session) -> None:
        row = m.save_model_text(
            session,
            person_id=_person(env),
            text=typed,
            today=env.today(),
            now=env.now(),
            key=key,
        )
        saved.append(m.model_org(session, person_id=_person(env), model_id=row.id))

    def done(session: Session) -> Screen:
        ov = m.model_overview(session, person_id=_person(env), org_id=saved[0], today=env.today())
        text, rows = _model_screen(env, ov)
        return env.t.gettext("✅ Saved.") + "\n\n" + text, rows

    await flows.step(update, context, env, save, render=render_model, done=done)


MODEL_FLOW = flows.Flow(
    name=m.MODEL_FLOW,
    title=N_("the cell's study model"),
    render=render_model,
    begin=_begin_model,
    text_steps={
        m.ModelState.TITLE.value: _model_text,
        m.ModelState.RESULT.value: _model_text,
    },
)
