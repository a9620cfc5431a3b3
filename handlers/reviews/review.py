"""/review (/camket): the monthly review of members' commitments."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from telegram import Update

from documents.report_parts import GROUP_LABELS, OUTCOME_ICONS, group_label, outcome_label
from domain.errors import NotAllowed, StaleAction
from domain.i18n import N_
from domain.rules import reviews as rules
from domain.rules.signs import Sign
from domain.text import h, truncate
from handlers import flows
from handlers.base import Context, Env, button, command, send
from handlers.callbacks import Family
from handlers.reviews.buttons import (
    GROUP_CODES,
    OUTCOME_CODES,
    PAGE,
    REV_ALL,
    REV_B,
    REV_C,
    REV_CELL,
    REV_CX,
    REV_END,
    REV_G,
    REV_M,
    REV_MO,
    REV_O,
    REV_PG,
    REV_SG,
    REV_W,
    _month_arg,
    _name,
    _status_note,
    require_writer,
    writer_cells,
)
from storage import drafts, reviews
from storage import review_steps as steps
from storage.models import Draft, ReviewOutcome


@command("review")
async def review_command(update: Update, context: Context, env: Env) -> None:
    """Opens the month's review board of the secretary's cell (or asks which cell)."""

    year, month = _month_arg(env, list(context.args or []))
    cells = await env.read(lambda session: writer_cells(session, env))
    if not cells:
        raise NotAllowed()
    if len(cells) > 1:
        rows = [
            [(truncate(name, 40), REV_CELL.data(oid, year, month))] for oid, name in cells.items()
        ]
        await send(env, context, env.t.gettext("Which cell?"), rows)
        return
    org_id = next(iter(cells))
    await _start_review(update, context, env, org_id, year, month)


async def _start_review(
    update: Update, context: Context, env: Env, org_id: int, year: int, month: int
) -> None:
    def same(d: Draft) -> bool:
        return d.flow == steps.REVIEW_FLOW and (
            d.data.get("org"),
            d.data.get("y"),
            d.data.get("m"),
        ) == (org_id, year, month)

    with env.db.transaction() as session:
        steps.link_month(
            session,
            person_id=env.person_id,
            org_id=org_id,
            year=year,
            month=month,
            actor=env.who.actor(),
            now=env.now(),
        )
    args = {"org": org_id, "y": year, "m": month}
    await flows.start(update, context, env, steps.REVIEW_FLOW, args, same=same)


@button
async def on_review_cell(update: Update, context: Context, env: Env) -> None:
    """Starts the review of the chosen cell."""
    org, year, month = REV_CELL.args(update)
    await env.read(lambda session: require_writer(session, env, org))
    rules.check_review_month(year, month, env.today())
    await _start_review(update, context, env, org, year, month)


def render_review(env: Env, session: Session, draft: Draft) -> flows.Screen:
    """The screen of the review flow's current step."""
    data = draft.data
    board = reviews.month_board(session, org_id=data["org"], year=data["y"], month=data["m"])
    if draft.state in ("member", "group", "sign", "desc", "measure", "comment"):
        line = board.line(int(data.get("member", 0)))
        if line is None:
            return _board_screen(env, session, draft, board)
        if draft.state == "member":
            return _member_screen(env, draft, board, line)
        signs = reviews.signs_in_force(session) if draft.state in ("sign", "measure") else ()
        return _detail_screen(env, draft, board, line, signs)
    if draft.state == "watch":
        return _watch_screen(env, session, draft)
    return _board_screen(env, session, draft, board)


def _board_screen(
    env: Env, session: Session, draft: Draft, board: reviews.MonthBoard
) -> flows.Screen:
    _ = env.t.gettext
    d = drafts.key(draft)
    month = env.t.month(board.year, board.month)
    lines = [
        _("📝 <b>Monthly review {month}</b> — {cell}").format(month=month, cell=h(board.org_name))
    ]
    if board.meeting is not None:
        lines.append(
            _("Meeting of {date}: the review is linked to it.").format(
                date=env.t.date(board.meeting.held_on)
            )
        )
    else:
        lines.append(
            _(
                "⚠️ No meeting is recorded for {month}: the review is saved without a meeting."
            ).format(month=month)
        )
    counts = " · ".join(f"{OUTCOME_ICONS[o]} {board.count(o)}" for o in ReviewOutcome)
    lines.append(
        _("Reviewed {done}/{total}: {counts}").format(
            done=board.reviewed, total=len(board.members), counts=counts
        )
    )
    exempt = [m for m in board.apart if m.reason is rules.NotReviewable.EXEMPT]
    if exempt:
        lines.append(
            _("Exempt (miễn sinh hoạt), not reviewed: {names}").format(
                names=", ".join(h(m.name) for m in exempt)
            )
        )
    others = [m for m in board.apart if m.reason is not rules.NotReviewable.EXEMPT]
    if others:
        lines.append(
            _("Not on the roll that month: {names}").format(
                names=", ".join(h(m.name) for m in others)
            )
        )
    watch = reviews.watch_list(session, cell_ids=[board.org_id])
    if watch:
        lines.append(
            env.t.ngettext(
                "👁 {n} member is under watch (new sign, or no change for 3 months).",
                "👁 {n} members are under watch (new sign, or no change for 3 months).",
                len(watch),
            ).format(n=len(watch))
        )
    if board.pending:
        lines.append(_("Tap a member to record or correct their review."))
    else:
        lines.append(_("✅ Everyone has been reviewed this month. Tap a member to correct."))
    rows: list[list[tuple[str, str]]] = []
    if board.pending:
        rows.append(
            [
                (
                    _("✅ Everyone else progressing ({n})").format(n=len(board.pending)),
                    REV_ALL.data(d),
                )
            ]
        )
    page = int(draft.data.get("page", 0))
    pages = max(1, -(-len(board.members) // PAGE))
    page = min(page, pages - 1)
    chunk = board.members[page * PAGE : (page + 1) * PAGE]
    for i in range(0, len(chunk), 2):
        rows.append(
            [
                (
                    f"{OUTCOME_ICONS[m.review.outcome] if m.review else '▫️'} {_name(m.name)}",
                    REV_M.data(d, m.member_id),
                )
                for m in chunk[i : i + 2]
            ]
        )
    if pages > 1:
        nav = []
        if page > 0:
            nav.append((_("◀ Previous"), REV_PG.data(d, page - 1)))
        if page < pages - 1:
            nav.append((_("Next ▶"), REV_PG.data(d, page + 1)))
        rows.append(nav)
    extra = []
    if watch:
        extra.append((_("👁 Under watch ({n})").format(n=len(watch)), REV_W.data(d)))
    prev_y, prev_m = rules.month_of_index(rules.month_index(board.year, board.month) - 1)
    extra.append((f"📅 {env.t.month(prev_y, prev_m)}", REV_MO.data(d, prev_y, prev_m)))
    today = env.today()
    if (board.year, board.month) != (today.year, today.month):
        extra.append(
            (
                f"📅 {env.t.month(today.year, today.month)}",
                REV_MO.data(d, today.year, today.month),
            )
        )
    rows.append(extra)
    rows.append([(_("✔ Done"), REV_END.data(d))])
    return "\n".join(lines), rows


def _review_lines(env: Env, line: reviews.MemberLine) -> list[str]:
    _ = env.t.gettext
    review = line.review
    if review is None:
        return [_("Not reviewed yet this month.")]
    out = [
        _("Now: {icon} {outcome}").format(
            icon=OUTCOME_ICONS[review.outcome], outcome=h(outcome_label(env.t, review.outcome))
        )
    ]
    if review.outcome is ReviewOutcome.NEW_SIGN:
        out.append(
            _("{group}: {description}. Measure: {measure}").format(
                group=h(group_label(env.t, review.sign_group)),
                description=h(" — ".join(x for x in (review.sign_code, review.description) if x)),
                measure=h(review.measure or ""),
            )
        )
    if review.meeting_id is None:
        out.append(_("(saved without a meeting)"))
    if review.comment:
        out.append(_("Comment: {comment}").format(comment=h(review.comment)))
    return out


def _member_screen(
    env: Env, draft: Draft, board: reviews.MonthBoard, line: reviews.MemberLine
) -> flows.Screen:
    _ = env.t.gettext
    d, mid = drafts.key(draft), line.member_id
    lines = [
        f"<b>{h(line.name)}</b>{h(_status_note(env, line.status))} — "
        f"{env.t.month(board.year, board.month)}",
        *_review_lines(env, line),
    ]
    rows: list[list[tuple[str, str]]] = []
    if line.reason is None:
        # The plan's words: đã / đang / chưa khắc phục, phát hiện biểu hiện mới.
        rows.append(
            [
                (_("✅ Remedied"), REV_O.data(d, mid, "r")),
                (_("🔄 Being remedied"), REV_O.data(d, mid, "p")),
            ]
        )
        rows.append([(_("➖ Not remedied"), REV_O.data(d, mid, "n"))])
        rows.append([(_("⚠️ New sign found"), REV_O.data(d, mid, "s"))])
    if line.review is not None:
        rows.append([(_("💬 Comment"), REV_C.data(d, mid))])
    rows.append([(_("◀ Back to the list"), REV_B.data(d))])
    return "\n".join(lines), rows


def _detail_screen(
    env: Env,
    draft: Draft,
    board: reviews.MonthBoard,
    line: reviews.MemberLine,
    signs: tuple[Sign, ...] = (),
) -> flows.Screen:
    _ = env.t.gettext
    d, mid = drafts.key(draft), line.member_id
    head = f"<b>{h(line.name)}</b> — {env.t.month(board.year, board.month)}"
    back = [(_("◀ Back to the list"), REV_B.data(d))]
    if draft.state == "group":
        rows = [
            [(env.t.gettext(GROUP_LABELS[g]), REV_G.data(d, mid, c))]
            for c, g in GROUP_CODES.items()
        ]
        return (
            head + "\n" + _("⚠️ New sign of degradation: which group does it belong to?"),
            [*rows, back],
        )
    group = group_label(env.t, draft.data.get("group"))
    if draft.state == "sign":
        # The signs of the group as choices (taps, not a description typed about a person).
        mine = [x for x in signs if x.group.value == draft.data.get("group")]
        listing = "\n".join(f"<b>{x.number}.</b> {h(x.text)}" for x in mine)
        rows = [
            [(f"{x.number}. {truncate(x.text, 40)}", REV_SG.data(d, mid, x.code))] for x in mine
        ]
        return (
            head + "\n" + _("⚠️ {group}: which sign?").format(group=h(group)) + "\n" + listing,
            [*rows, back],
        )
    if draft.state == "measure" and draft.data.get("sign"):
        sign = next((x for x in signs if x.code == draft.data["sign"]), None)
        return (
            head
            + "\n"
            + _("⚠️ {group}: {sign}.\nNow type the measure the cell agreed.").format(
                group=h(group), sign=h(sign.text if sign else draft.data["sign"])
            ),
            [back],
        )
    if draft.state == "desc":
        return (
            head
            + "\n"
            + _("⚠️ {group}.\nType a short description of the sign (a few words).").format(
                group=h(group)
            ),
            [back],
        )
    if draft.state == "measure":
        return (
            head
            + "\n"
            + _("⚠️ {group}: {description}.\nNow type the measure the cell agreed.").format(
                group=h(group), description=h(draft.data.get("desc", ""))
            ),
            [back],
        )
    # comment
    rows = [back]
    if line.review is not None and line.review.comment:
        rows.insert(0, [(_("🗑 Remove the comment"), REV_CX.data(d, mid))])
    return head + "\n" + _("Type a short comment on this member's review."), rows


def _watch_screen(env: Env, session: Session, draft: Draft) -> flows.Screen:
    _ = env.t.gettext

    org_id = draft.data["org"]
    watch = reviews.watch_list(session, cell_ids=[org_id])
    reviews.note_list_read(
        session,
        what="watch_list",
        cell_ids=[org_id],
        shown=len(watch),
        actor=env.who.actor(),
        now=env.now(),
    )
    lines = [_("👁 <b>Members under watch</b>"), _("Until a later review says progressing.")]
    lines.extend("• " + h(watch_entry_text(env, w)) for w in watch)
    if not watch:
        lines.append(_("None."))
    return "\n".join(lines), [[(_("◀ Back to the list"), REV_B.data(drafts.key(draft)))]]


def watch_entry_text(env: Env, w: reviews.WatchEntry) -> str:
    """One line of a watch list (plain text)."""
    t = env.t
    since = t.month(*w.since)
    text = t.ngettext(
        "{name} — since {month}, {n} month without progress",
        "{name} — since {month}, {n} months without progress",
        w.verdict.months_without_progress,
    ).format(name=w.name, month=since, n=w.verdict.months_without_progress)
    if w.verdict.new_sign:
        text += "; " + t.gettext("new sign of degradation")
        if w.sign_group is not None:
            text += f" ({group_label(t, w.sign_group)})"
        if w.measure:
            text += "; " + t.gettext("measure: {measure}").format(measure=w.measure)
    if w.verdict.removal_ground:
        text += "; " + t.gettext("⛔ not remedied for 12 months: a ground for removal")
    return text


# --- The board's steps: one use case per button, registered from REVIEW_STEPS ------------------


def _member(s: Session, env: Env, key: int, member: int) -> Draft:
    """Opens one member's review."""
    return steps.open_member(s, person_id=env.person_id, key=key, member_id=member, now=env.now())


def _outcome(s: Session, env: Env, key: int, member: int, code: str) -> Draft:
    """Records remedied / being remedied / not remedied, or asks for the group of a new sign."""
    if code not in OUTCOME_CODES:
        raise StaleAction()
    return steps.set_outcome(
        s,
        person_id=env.person_id,
        key=key,
        member_id=member,
        outcome=OUTCOME_CODES[code],
        actor=env.who.actor(),
        today=env.today(),
        now=env.now(),
    )


def _group(s: Session, env: Env, key: int, member: int, code: str) -> Draft:
    """Stores the group of a new sign and offers the group's signs."""
    if code not in GROUP_CODES:
        raise StaleAction()
    return steps.set_group(
        s,
        person_id=env.person_id,
        key=key,
        member_id=member,
        group=GROUP_CODES[code],
        now=env.now(),
    )


def _sign(s: Session, env: Env, key: int, member: int, code: str) -> Draft:
    """Stores the sign picked from the group's list and asks for the measure."""
    return steps.set_sign(
        s, person_id=env.person_id, key=key, member_id=member, code=code, now=env.now()
    )


def _comment(s: Session, env: Env, key: int, member: int) -> Draft:
    """Asks for a comment on a member's review."""
    return steps.ask_comment(s, person_id=env.person_id, key=key, member_id=member, now=env.now())


def _comment_remove(s: Session, env: Env, key: int, member: int) -> Draft:
    """Removes a member's comment and goes back to the list."""
    return steps.set_comment(
        s,
        person_id=env.person_id,
        key=key,
        text=None,
        member_id=member,
        actor=env.who.actor(),
        now=env.now(),
    )


def _back(s: Session, env: Env, key: int) -> Draft:
    """Goes back to the member list (a half-typed new sign is dropped)."""
    return steps.back_to_board(s, person_id=env.person_id, key=key, now=env.now())


def _page(s: Session, env: Env, key: int, page: int) -> Draft:
    """Shows another page of members."""
    return steps.set_review_page(s, person_id=env.person_id, key=key, page=page, now=env.now())


def _month(s: Session, env: Env, key: int, year: int, month: int) -> Draft:
    """Switches the board to another month (not a future one)."""
    return steps.set_month(
        s,
        person_id=env.person_id,
        key=key,
        year=year,
        month=month,
        today=env.today(),
        now=env.now(),
    )


def _watch(s: Session, env: Env, key: int) -> Draft:
    """Shows the cell's members under watch."""
    return steps.show_watch(s, person_id=env.person_id, key=key, now=env.now())


def _all(s: Session, env: Env, key: int) -> Draft:
    """Records "progressing" for everyone not yet reviewed this month."""
    draft, done = steps.everyone_progressing(
        s,
        person_id=env.person_id,
        key=key,
        actor=env.who.actor(),
        today=env.today(),
        now=env.now(),
    )
    env.notice = env.t.ngettext(
        "{n} member recorded as progressing.", "{n} members recorded as progressing.", done
    ).format(n=done)
    return draft


#: The review's step buttons: the family whose data the button carries, and its use case.
REVIEW_STEPS: tuple[tuple[Family, flows.ButtonStep], ...] = (
    (REV_M, _member),
    (REV_O, _outcome),
    (REV_G, _group),
    (REV_SG, _sign),
    (REV_C, _comment),
    (REV_CX, _comment_remove),
    (REV_B, _back),
    (REV_PG, _page),
    (REV_MO, _month),
    (REV_W, _watch),
    (REV_ALL, _all),
)


@button
async def on_end(update: Update, context: Context, env: Env) -> None:
    """Closes the review (everything was saved as it went)."""
    (key,) = REV_END.args(update)

    def done(s: Session) -> flows.Screen:
        board = steps.end_review(s, person_id=env.person_id, key=key)
        _ = env.t.gettext
        text = _("Review of {month} saved: {done} of {total} members reviewed.").format(
            month=env.t.month(board.year, board.month),
            done=board.reviewed,
            total=len(board.members),
        )
        if board.pending:
            text += "\n" + _("Not reviewed yet: {names}. Type /review to continue.").format(
                names=", ".join(h(m.name) for m in board.pending[:10])
                + ("…" if len(board.pending) > 10 else "")
            )
        return text, None

    await flows.step(update, context, env, lambda s: None, render=render_review, done=done)


def _description(s: Session, env: Env, key: int, text: str) -> Draft:
    """Stores the typed description of a new sign and asks for the measure."""
    return steps.set_description(s, person_id=env.person_id, key=key, text=text, now=env.now())


def _measure(s: Session, env: Env, key: int, text: str) -> Draft:
    """Saves the new sign of degradation with its measure and goes back to the list."""
    return steps.set_measure(
        s,
        person_id=env.person_id,
        key=key,
        text=text,
        actor=env.who.actor(),
        today=env.today(),
        now=env.now(),
    )


def _comment_text(s: Session, env: Env, key: int, text: str) -> Draft:
    """Saves the typed comment and goes back to the list."""
    return steps.set_comment(
        s, person_id=env.person_id, key=key, text=text, actor=env.who.actor(), now=env.now()
    )


def _sign_recorded(env: Env, session: Session, draft: Draft) -> flows.Screen:
    text, rows = render_review(env, session, draft)
    return env.t.gettext("⚠️ New sign of degradation recorded.") + "\n\n" + text, rows


def _begin_review(env: Env, session: Session, args: dict[str, Any]) -> Draft:
    return steps.start_review(
        session,
        person_id=env.person_id,
        org_id=int(args["org"]),
        year=int(args["y"]),
        month=int(args["m"]),
        actor=env.who.actor(),
        today=env.today(),
        now=env.now(),
    )


def _lost_review(env: Env, session: Session, draft: Draft) -> list[str]:
    """A review is saved member by member; only a new sign being entered is not saved yet."""
    data = draft.data
    if draft.state not in (
        steps.ReviewState.GROUP,
        steps.ReviewState.SIGN,
        steps.ReviewState.DESC,
        steps.ReviewState.MEASURE,
    ):
        return []
    member = reviews.month_board(
        session, org_id=data["org"], year=data["y"], month=data["m"]
    ).line(int(data.get("member") or 0))
    parts = [env.t.gettext("new sign of degradation")]
    if data.get("group"):
        parts.append(group_label(env.t, data.get("group")))
    if data.get("sign"):
        sign = next((x for x in reviews.signs_in_force(session) if x.code == data["sign"]), None)
        parts.append(f"{sign.number}. {truncate(sign.text, 60)}" if sign else data["sign"])
    if data.get("desc"):
        parts.append(data["desc"])
    name = member.name if member is not None else "?"
    return [h(f"{name}: " + ", ".join(parts))]


REVIEW_FLOW = flows.Flow(
    name=steps.REVIEW_FLOW,
    title=N_("monthly review of commitments"),
    render=render_review,
    text_steps={
        steps.ReviewState.DESC.value: flows.typed_step(_description, render_review),
        steps.ReviewState.MEASURE.value: flows.typed_step(_measure, _sign_recorded),
        steps.ReviewState.COMMENT.value: flows.typed_step(_comment_text, render_review),
    },
    begin=_begin_review,
    lost=_lost_review,
)
