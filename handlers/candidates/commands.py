"""/candidates: the command, the list's buttons and starting a conversation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from telegram import Update

from domain.errors import ChiboError, NotAllowed, StaleAction
from domain.rules.candidates import CandidateClosed, RuleViolated
from domain.text import h, truncate
from handlers import flows
from handlers.base import (
    Context,
    Env,
    button,
    command,
    error_text,
    mark_saved,
    send,
    show,
)
from handlers.base import RowScreen as Screen
from handlers.candidates.buttons import ADD, CONSIDER, EXTEND, LIST, MOVE, OPEN, REDO, _stage
from handlers.candidates.screens import _move_head, card_screen, list_screen, violation_text
from storage import candidates as cs
from storage.candidates import State
from storage.meetings import CellRef
from storage.models import Draft


def _person(env: Env) -> int:
    assert env.who is not None
    return env.who.person_id


def _cells_screen(env: Env, cells: list[Any]) -> Screen:
    rows = [[(truncate(f"{c.code} — {c.name}", 60), LIST.data(c.id))] for c in cells]
    return env.t.gettext("Which cell's list?"), rows


@command("candidates")
async def candidates_command(update: Update, context: Context, env: Env) -> None:
    """Shows the cell's sympathizer list (or asks which cell)."""

    def unit(session: Session) -> tuple[list[CellRef], cs.CellList | None]:
        cells = cs.cells(session, person_id=_person(env))
        if len(cells) != 1:
            return cells, None
        cl = cs.cell_list(session, person_id=_person(env), org_id=cells[0].id, today=env.today())
        return cells, cl

    cells, cl = await env.run(unit)
    if not cells:
        raise NotAllowed()
    screen = list_screen(env, cl, env.today()) if cl is not None else _cells_screen(env, cells)
    await send(env, context, *screen)


@button
async def on_list(update: Update, context: Context, env: Env) -> None:
    """Shows a cell's list."""
    (org_id,) = LIST.args(update)

    def unit(session: Session) -> cs.CellList:
        return cs.cell_list(session, person_id=_person(env), org_id=org_id, today=env.today())

    cl = await env.run(unit)
    await show(update, env, context, *list_screen(env, cl, env.today()))


@button
async def on_open(update: Update, context: Context, env: Env) -> None:
    """Shows one file's card."""
    (cid,) = OPEN.args(update)
    c, org_id = await env.run(_card(env, cid))
    await show(update, env, context, *card_screen(env, c, org_id))


def _card(env: Env, cid: int) -> Callable[[Session], tuple[cs.CandidateRow, int]]:
    """The unit that reads one file's card and its cell."""

    def unit(session: Session) -> tuple[cs.CandidateRow, int]:
        c = cs.card(session, person_id=_person(env), candidate_id=cid, today=env.today())
        return c, cs.org_of(session, person_id=_person(env), candidate_id=cid)

    return unit


def _begin(env: Env, session: Session, args: dict[str, Any]) -> Draft:
    """Starts the conversation asked for: adding a non-member, the month's consideration, or
    a dated step of a file."""
    what = args.get("what")
    if what == "add":
        return cs.start_add(session, person_id=env.person_id, org_id=args["org"], now=env.now())
    if what == "consider":
        return cs.start_consider(
            session, person_id=env.person_id, org_id=args["org"], now=env.now(), today=env.today()
        )
    if what == "redo":
        return cs.start_redo_introductions(
            session,
            person_id=env.person_id,
            candidate_id=args["cand"],
            version=args["version"],
            today=env.today(),
            now=env.now(),
        )
    if what == "move":
        return cs.start_move(
            session,
            person_id=env.person_id,
            candidate_id=args["cand"],
            version=args["version"],
            target=_stage(args["target"]),
            now=env.now(),
        )
    raise StaleAction()


def _lost(env: Env, session: Session, draft: Draft) -> list[str]:
    """What discarding an unfinished step loses: the name typed, the ticks, the step begun."""
    d = draft.data
    state = State(draft.state)
    if state is State.CELL:
        return []
    if state is State.CONSIDER:
        ticked = {int(i) for i in (*d.get("cls", []), *d.get("prop", []))}
        if not ticked:
            return []
        cl = cs.cell_list(
            session, person_id=env.person_id, org_id=int(d["org_id"]), today=env.today()
        )
        return [h(c.name) for c in cl.open if c.id in ticked]
    if "cand" in d:
        try:
            return [_move_head(env, session, draft).strip()]
        except ChiboError:
            return []
    return [h(d["name"])] if d.get("name") else []


async def _start(update: Update, context: Context, env: Env, args: dict[str, Any]) -> None:
    """Starts a conversation, or offers back the one open (continue / discard) when
    discarding it would lose something."""
    await flows.start(update, context, env, cs.FLOW, args)


@button
async def on_add(update: Update, context: Context, env: Env) -> None:
    """Starts adding a non-member: asks the name."""
    (org_id,) = ADD.args(update)
    await _start(update, context, env, {"what": "add", "org": org_id})


@button
async def on_consider(update: Update, context: Context, env: Env) -> None:
    """Opens the month's consideration of the list."""
    (org_id,) = CONSIDER.args(update)
    await _start(update, context, env, {"what": "consider", "org": org_id})


@button
async def on_move(update: Update, context: Context, env: Env) -> None:
    """Starts a dated step of a file (forward, back or out)."""
    cid, version, target = MOVE.args(update)
    try:
        await _start(
            update,
            context,
            env,
            {"what": "move", "cand": cid, "version": version, "target": target.value},
        )
    except (CandidateClosed, cs.ConcurrentChange, RuleViolated) as exc:
        await _refused(update, context, env, exc, cid)


@button
async def on_redo(update: Update, context: Context, env: Env) -> None:
    """Starts recording new introducers for a file whose introductions are too old."""
    cid, version = REDO.args(update)
    try:
        await _start(update, context, env, {"what": "redo", "cand": cid, "version": version})
    except (CandidateClosed, cs.ConcurrentChange) as exc:
        await _refused(update, context, env, exc, cid)


async def _refused(update: Update, context: Context, env: Env, exc: Exception, cid: int) -> None:
    """Explains why the file cannot move and shows its card again."""
    if isinstance(exc, RuleViolated):
        text = violation_text(env, exc)
    else:
        assert isinstance(exc, ChiboError)
        text = "⚠️ " + error_text(env, exc)
    c, org_id = await env.run(_card(env, cid))
    body, rows = card_screen(env, c, org_id)
    await show(update, env, context, f"{text}\n\n{body}", rows)


@button
async def on_extend(update: Update, context: Context, env: Env) -> None:
    """Records that the decision's deadline was extended by 30 working days."""
    cid, version = EXTEND.args(update)

    def unit(session: Session) -> tuple[cs.CandidateRow, int]:
        c = cs.extend_decision(
            session,
            person_id=_person(env),
            candidate_id=cid,
            version=version,
            today=env.today(),
            now=env.now(),
        )
        return c, cs.org_of(session, person_id=_person(env), candidate_id=cid)

    try:
        c, org_id = await env.run(unit)
    except cs.ConcurrentChange as exc:
        await _refused(update, context, env, exc, cid)
        return
    mark_saved(update)
    await show(update, env, context, *card_screen(env, c, org_id))
