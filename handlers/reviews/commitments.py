"""/commitments: who signed the year's commitment."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from telegram import Update

from documents.report_parts import GROUP_LABELS, group_label
from domain.errors import InvalidInput, NotAllowed, StaleAction
from domain.i18n import N_
from domain.text import h, truncate
from handlers import flows
from handlers.base import Context, Env, button, command, send
from handlers.callbacks import Family
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
    PAGE,
    _name,
    _status_note,
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
        rows = [[(truncate(name, 40), CMT_CELL.data(oid, year))] for oid, name in writers.items()]
        await send(env, context, env.t.gettext("Which cell?"), rows)
        return
    if writers:
        await _start_commitments(update, context, env, next(iter(writers)), year)
        return
    with env.db.transaction() as session:
        readers = reader_cells(session, env)
        if not readers:
            raise NotAllowed()
        texts = [
            _commitments_text(env, reviews.commitment_board(session, org_id=oid, year=year))
            for oid in readers
        ]
    await send(env, context, "\n\n".join(texts))


async def _start_commitments(
    update: Update, context: Context, env: Env, org_id: int, year: int
) -> None:
    def same(d: Draft) -> bool:
        return d.flow == steps.COMMIT_FLOW and (d.data.get("org"), d.data.get("year")) == (
            org_id,
            year,
        )

    args = {"org": org_id, "year": year}
    await flows.start(update, context, env, steps.COMMIT_FLOW, args, same=same)


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
        head = f"<b>{h(line.name)}</b>{h(_status_note(env, line.status))} — " + _(
            "commitment {year}"
        ).format(year=board.year)
        back = [(_("◀ Back to the list"), CMT_B.data(d))]
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
    pages = max(1, -(-len(board.lines) // PAGE))
    page = min(page, pages - 1)
    chunk = board.lines[page * PAGE : (page + 1) * PAGE]
    for i in range(0, len(chunk), 2):
        rows.append(
            [
                (f"{'✅' if x.signed else '▫️'} {_name(x.name)}", CMT_M.data(d, x.member_id))
                for x in chunk[i : i + 2]
            ]
        )
    if pages > 1:
        nav = []
        if page > 0:
            nav.append((_("◀ Previous"), CMT_PG.data(d, page - 1)))
        if page < pages - 1:
            nav.append((_("Next ▶"), CMT_PG.data(d, page + 1)))
        rows.append(nav)
    rows.append([(_("✔ Done"), CMT_END.data(d))])
    return text, rows


# --- The list's steps: one use case per button, registered from COMMITMENT_STEPS ---------------


def _c_member(s: Session, env: Env, key: int, member: int) -> Draft:
    """Opens one member's commitment."""
    return steps.open_commitment(
        s, person_id=env.person_id, key=key, member_id=member, now=env.now()
    )


def _c_today(s: Session, env: Env, key: int, member: int) -> Draft:
    """Records the commitment as signed today and goes back to the list."""
    return steps.signed_today(
        s,
        person_id=env.person_id,
        key=key,
        member_id=member,
        actor=env.who.actor(),
        today=env.today(),
        now=env.now(),
    )


def _c_date(s: Session, env: Env, key: int, member: int) -> Draft:
    """Asks for the date the commitment was signed."""
    return steps.ask_date(s, person_id=env.person_id, key=key, member_id=member, now=env.now())


def _c_item(s: Session, env: Env, key: int, member: int, code: str) -> Draft:
    """Asks for a shortcoming of the chosen group (or a typed one)."""
    if code != "x" and code not in GROUP_CODES:
        raise StaleAction()
    return steps.ask_item(
        s,
        person_id=env.person_id,
        key=key,
        member_id=member,
        group=GROUP_CODES.get(code),
        now=env.now(),
    )


def _c_item_group(s: Session, env: Env, key: int, member: int, code: str) -> Draft:
    """Adds an item naming just the group, and goes back to the member."""
    if code not in GROUP_CODES:
        raise StaleAction()
    return steps.add_item(
        s,
        person_id=env.person_id,
        key=key,
        member_id=member,
        group=GROUP_CODES[code],
        text=None,
        actor=env.who.actor(),
        now=env.now(),
    )


def _c_clear(s: Session, env: Env, key: int, member: int) -> Draft:
    """Removes every item of the member's commitment."""
    return steps.clear_items(
        s,
        person_id=env.person_id,
        key=key,
        member_id=member,
        actor=env.who.actor(),
        now=env.now(),
    )


def _c_public(s: Session, env: Env, key: int, member: int, flag: str) -> Draft:
    """Sets whether the commitment was made public."""
    if flag not in ("0", "1"):
        raise StaleAction()
    return steps.set_public(
        s,
        person_id=env.person_id,
        key=key,
        member_id=member,
        public=flag == "1",
        actor=env.who.actor(),
        now=env.now(),
    )


def _c_back(s: Session, env: Env, key: int) -> Draft:
    """Goes back to the member list."""
    return steps.back_to_list(s, person_id=env.person_id, key=key, now=env.now())


def _c_page(s: Session, env: Env, key: int, page: int) -> Draft:
    """Shows another page of members."""
    return steps.set_commit_page(s, person_id=env.person_id, key=key, page=page, now=env.now())


def _c_all(s: Session, env: Env, key: int) -> Draft:
    """Records a commitment signed today for every member still without one."""
    draft, done, skipped = steps.all_signed_today(
        s,
        person_id=env.person_id,
        key=key,
        actor=env.who.actor(),
        today=env.today(),
        now=env.now(),
    )
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


#: The list's step buttons: the family whose data the button carries, and its use case.
COMMITMENT_STEPS: tuple[tuple[Family, flows.ButtonStep], ...] = (
    (CMT_M, _c_member),
    (CMT_T, _c_today),
    (CMT_D, _c_date),
    (CMT_I, _c_item),
    (CMT_IG, _c_item_group),
    (CMT_IX, _c_clear),
    (CMT_PUB, _c_public),
    (CMT_B, _c_back),
    (CMT_PG, _c_page),
    (CMT_ALL, _c_all),
)


@button
async def on_c_end(update: Update, context: Context, env: Env) -> None:
    """Closes the commitments list."""
    (key,) = CMT_END.args(update)

    def done(s: Session) -> flows.Screen:
        board = steps.end_commitments(s, person_id=env.person_id, key=key)
        return _commitments_text(env, board), None

    await flows.step(update, context, env, lambda s: None, render=render_commitments, done=done)


def _c_date_text(s: Session, env: Env, key: int, text: str) -> Draft:
    """Records the commitment with the typed signing date."""
    return steps.signed_on(
        s,
        person_id=env.person_id,
        key=key,
        text=text,
        actor=env.who.actor(),
        today=env.today(),
        now=env.now(),
    )


def _c_item_text(s: Session, env: Env, key: int, text: str) -> Draft:
    """Adds the typed shortcoming to the member's commitment."""
    return steps.add_item(
        s,
        person_id=env.person_id,
        key=key,
        member_id=None,
        group=None,
        text=text,
        actor=env.who.actor(),
        now=env.now(),
    )


def _lost_commitment(env: Env, session: Session, draft: Draft) -> list[str]:
    """Commitments are saved as they go; only a chosen group waiting for its text is not."""
    if draft.state != steps.CommitState.ITEM or not draft.data.get("group"):
        return []
    return [h(group_label(env.t, draft.data["group"]))]


def _begin_commitments(env: Env, session: Session, args: dict[str, Any]) -> Draft:
    return steps.start_commitments(
        session,
        person_id=env.person_id,
        org_id=int(args["org"]),
        year=int(args["year"]),
        today=env.today(),
        now=env.now(),
    )


COMMITMENTS_FLOW = flows.Flow(
    name=steps.COMMIT_FLOW,
    title=N_("members' commitments"),
    render=render_commitments,
    text_steps={
        steps.CommitState.DATE.value: flows.typed_step(_c_date_text, render_commitments),
        steps.CommitState.ITEM.value: flows.typed_step(_c_item_text, render_commitments),
    },
    begin=_begin_commitments,
    lost=_lost_commitment,
)
