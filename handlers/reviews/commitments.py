"""/commitments: who signed the year's commitment."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from telegram import Update

from documents.report_parts import GROUP_LABELS, group_label
from domain.errors import InvalidInput, NotAllowed, StaleAction
from domain.i18n import N_
from domain.text import h
from handlers import flows
from handlers.base import Context, Env, button, command, send
from handlers.callbacks import Family
from handlers.reviews import common
from handlers.reviews.buttons import (
    CMT_ALL,
    CMT_B,
    CMT_CELL,
    CMT_D,
    CMT_END,
    CMT_I,
    CMT_IG,
    CMT_IX,
    CMT_M,
    CMT_PG,
    CMT_PUB,
    CMT_T,
    GROUP_CODE_OF,
    GROUP_CODES,
    reader_cells,
    require_writer,
    writer_cells,
)
from storage import drafts, reviews
from storage import review_steps as steps
from storage.models import Draft, SignGroup


@command("commitments")
async def commitments_command(update: Update, context: Context, env: Env) -> None:
    """Shows who in the cell still lacks a commitment for the year; secretaries can mark them."""

    today = env.today()
    year = today.year
    if context.args:
        try:
            year = int(context.args[0])
        except ValueError as exc:
            raise InvalidInput(N_("Please give a year like 2026.")) from exc
        if not 2000 <= year <= today.year + 1:
            raise InvalidInput(N_("Please give a year like 2026."))
    writers = await env.read(lambda session: writer_cells(session, env))
    if len(writers) > 1:
        await common.ask_cell(env, context, writers, lambda oid: CMT_CELL.data(oid, year))
        return
    if writers:
        await _start_commitments(update, context, env, next(iter(writers)), year)
        return

    def unit(session: Session) -> list[str]:
        readers = reader_cells(session, env)
        if not readers:
            raise NotAllowed()
        return [
            _commitments_text(env, reviews.commitment_board(session, org_id=oid, year=year))
            for oid in readers
        ]

    texts = await env.run(unit)
    await send(env, context, "\n\n".join(texts))


async def _start_commitments(
    update: Update, context: Context, env: Env, org_id: int, year: int
) -> None:
    await common.start(update, context, env, steps.COMMIT_FLOW, {"org": org_id, "year": year})


@button
async def on_commitments_cell(update: Update, context: Context, env: Env) -> None:
    """Opens the commitments of the chosen cell."""
    org, year = CMT_CELL.args(update)
    await env.read(lambda session: require_writer(session, env, org, "commitments"))
    if not 2000 <= year <= env.today().year + 1:
        raise StaleAction()
    await _start_commitments(update, context, env, org, year)


def _commitments_text(env: Env, board: reviews.CommitmentBoard) -> str:
    _ = env.t.gettext
    signed = len(board.lines) - len(board.missing)
    lines = [
        _("✍️ <b>Commitments {year}</b> — {cell}").format(year=board.year, cell=h(board.org_name)),
        _("Signed: {signed}/{total}.").format(signed=signed, total=len(board.lines)),
    ]
    if board.missing:
        lines.append(
            _("Still without a commitment: {names}").format(
                names=", ".join(h(x.name) for x in board.missing)
            )
        )
    public = [x for x in board.lines if x.made_public]
    if public:
        lines.append(_("Made public: {names}").format(names=", ".join(h(x.name) for x in public)))
    return "\n".join(lines)


def render_commitments(env: Env, session: Session, draft: Draft) -> flows.Screen:
    """The screen of the commitments flow's current step."""
    data = draft.data
    board = reviews.commitment_board(session, org_id=data["org"], year=data["year"])
    _ = env.t.gettext
    d = drafts.key(draft)
    line = board.line(int(data.get("member") or 0))
    if draft.state in ("member", "date", "item") and line is not None:
        head = common.member_head(env, line, _("commitment {year}").format(year=board.year))
        back = common.back_row(env, CMT_B, d)
        if draft.state == "date":
            return head + "\n" + _("Type the date it was signed, e.g. 05/01/2026."), [back]
        if draft.state == "item":
            group = data.get("group")
            prompt = (
                _("Type the shortcoming in a few words ({group}), or keep just the group.").format(
                    group=h(group_label(env.t, group))
                )
                if group
                else _("Type the shortcoming in a few words.")
            )
            prompt_rows: list[list[tuple[str, str]]] = [back]
            if group:
                prompt_rows.insert(
                    0,
                    [
                        (
                            _("Just the group"),
                            CMT_IG.data(d, line.member_id, GROUP_CODE_OF[SignGroup(group)]),
                        )
                    ],
                )
            return head + "\n" + prompt, prompt_rows
        lines = [head]
        if line.signed:
            lines.append(
                _("✅ Signed on {date}.").format(date=env.t.date(line.signed_on))
                if line.signed_on
                else _("✅ Signed (date not recorded).")
            )
        else:
            lines.append(_("▫️ No commitment recorded."))
        if line.items:
            lines.append(_("Shortcomings committed to remedy:"))
            for item in line.items:
                parts = [group_label(env.t, item.get("group")), item.get("text", "")]
                lines.append("• " + h(": ".join(p for p in parts if p)))
        if line.signed:
            lines.append(_("📢 Made public.") if line.made_public else _("Not made public."))
        mid = line.member_id
        rows: list[list[tuple[str, str]]] = [
            [
                (_("✍️ Signed today"), CMT_T.data(d, mid)),
                (_("📅 Type the date"), CMT_D.data(d, mid)),
            ]
        ]
        if line.signed:
            rows.extend(
                [("+ " + env.t.gettext(GROUP_LABELS[g]), CMT_I.data(d, mid, c))]
                for c, g in GROUP_CODES.items()
            )
            rows.append([(_("+ Other (typed)"), CMT_I.data(d, mid, "x"))])
            if line.items:
                rows.append([(_("🗑 Clear the items"), CMT_IX.data(d, mid))])
            rows.append(
                [(_("📢 Not made public"), CMT_PUB.data(d, mid, "0"))]
                if line.made_public
                else [(_("📢 Made public"), CMT_PUB.data(d, mid, "1"))]
            )
        rows.append(back)
        return "\n".join(lines), rows
    text = _commitments_text(env, board)
    text += "\n" + _("Tap a member to record their commitment (▫️ = none yet).")
    rows = []
    if board.missing:
        rows.append(
            [
                (
                    _("✍️ All remaining signed today ({n})").format(n=len(board.missing)),
                    CMT_ALL.data(d),
                )
            ]
        )
    page = int(data.get("page", 0))
    rows += common.member_pages(
        env, board.lines, page, lambda x: "✅" if x.signed else "▫️", CMT_M, CMT_PG, d
    )
    rows.append([(_("✔ Done"), CMT_END.data(d))])
    return text, rows


# --- The list's steps: one use case per button, registered from COMMITMENT_STEPS ---------------


def _c_all(s: Session, env: Env, key: int) -> Draft:
    """Records a commitment signed today for every member still without one."""
    draft, done, skipped = common.call(steps.all_signed_today, s, env, key=key)
    note = env.t.ngettext("{n} commitment recorded.", "{n} commitments recorded.", done).format(
        n=done
    )
    if skipped:
        note += " " + env.t.ngettext(
            "{n} member skipped (admitted later).",
            "{n} members skipped (admitted later).",
            skipped,
        ).format(n=skipped)
    env.notice = note
    return draft


#: The codes of the item buttons ("x": other, typed, of no group) and of "made public".
_ITEM_CODES = {**GROUP_CODES, "x": None}
_PUBLIC_CODES = {"0": False, "1": True}


#: The list's step buttons: the family whose data the button carries, and its use case.
COMMITMENT_STEPS: tuple[tuple[Family, flows.ButtonStep], ...] = (
    (CMT_M, common.step(steps.open_member, "member_id", flow=steps.COMMIT_FLOW)),
    (CMT_T, common.step(steps.signed_today, "member_id")),
    (CMT_D, common.step(steps.ask_date, "member_id")),
    (CMT_I, common.step(steps.ask_item, "member_id", ("group", _ITEM_CODES))),
    (CMT_IG, common.step(steps.add_item, "member_id", ("group", GROUP_CODES), text=None)),
    (CMT_IX, common.step(steps.clear_items, "member_id")),
    (CMT_PUB, common.step(steps.set_public, "member_id", ("public", _PUBLIC_CODES))),
    (CMT_B, common.step(steps.back_to_list, flow=steps.COMMIT_FLOW)),
    (CMT_PG, common.step(steps.set_page, "page", flow=steps.COMMIT_FLOW)),
    (CMT_ALL, _c_all),
)


def _c_end(s: Session, env: Env, key: int) -> flows.Screen:
    """Closes the commitments list."""
    return _commitments_text(env, steps.end_commitments(s, person_id=env.person_id, key=key)), None


def _lost_commitment(env: Env, session: Session, draft: Draft) -> list[str]:
    """Commitments are saved as they go; only a chosen group waiting for its text is not."""
    if draft.state != steps.CommitState.ITEM or not draft.data.get("group"):
        return []
    return [h(group_label(env.t, draft.data["group"]))]


def _begin_commitments(env: Env, session: Session, args: dict[str, Any]) -> Draft:
    org, year = int(args["org"]), int(args["year"])
    return common.call(steps.start_commitments, session, env, org_id=org, year=year)


COMMITMENTS_FLOW = flows.Flow(
    name=steps.COMMIT_FLOW,
    title=N_("members' commitments"),
    render=render_commitments,
    text_steps={
        steps.CommitState.DATE.value: common.typed(steps.signed_on, render_commitments),
        steps.CommitState.ITEM.value: common.typed(
            steps.add_item, render_commitments, member_id=None, group=None
        ),
    },
    begin=_begin_commitments,
    lost=_lost_commitment,
)


on_c_end = common.end_button(CMT_END, _c_end, render_commitments)
