"""/review (/camket): the monthly review of members' commitments."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from telegram import Update

from documents.report_parts import GROUP_LABELS, OUTCOME_ICONS, group_label, outcome_label
from domain.errors import NotAllowed
from domain.i18n import N_
from domain.rules import reviews as rules
from domain.rules.signs import Sign
from domain.text import h, truncate
from handlers import flows
from handlers.base import Context, Env, button, command
from handlers.callbacks import Family
from handlers.reviews import common
from handlers.reviews.buttons import (
    GROUP_CODES,
    OUTCOME_CODES,
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
        await common.ask_cell(env, context, cells, lambda oid: REV_CELL.data(oid, year, month))
        return
    org_id = next(iter(cells))
    await _start_review(update, context, env, org_id, year, month)


async def _start_review(
    update: Update, context: Context, env: Env, org_id: int, year: int, month: int
) -> None:
    await env.run(
        lambda session: common.call(
            steps.link_month, session, env, org_id=org_id, year=year, month=month
        )
    )
    args = {"org": org_id, "y": year, "m": month}
    await common.start(update, context, env, steps.REVIEW_FLOW, args)


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
    rows += common.member_pages(
        env,
        board.members,
        int(draft.data.get("page", 0)),
        lambda m: OUTCOME_ICONS[m.review.outcome] if m.review else "▫️",
        REV_M,
        REV_PG,
        d,
    )
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
        common.member_head(env, line, env.t.month(board.year, board.month)),
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
    rows.append(common.back_row(env, REV_B, d))
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
    back = common.back_row(env, REV_B, d)
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
    return "\n".join(lines), [common.back_row(env, REV_B, drafts.key(draft))]


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


def _all(s: Session, env: Env, key: int) -> Draft:
    """Records "progressing" for everyone not yet reviewed this month."""
    draft, done = common.call(steps.everyone_progressing, s, env, key=key)
    env.notice = env.t.ngettext(
        "{n} member recorded as progressing.", "{n} members recorded as progressing.", done
    ).format(n=done)
    return draft


#: The review's step buttons: the family whose data the button carries, and its use case.
REVIEW_STEPS: tuple[tuple[Family, flows.ButtonStep], ...] = (
    (REV_M, common.step(steps.open_member, "member_id", flow=steps.REVIEW_FLOW)),
    (REV_O, common.step(steps.set_outcome, "member_id", ("outcome", OUTCOME_CODES))),
    (REV_G, common.step(steps.set_group, "member_id", ("group", GROUP_CODES))),
    (REV_SG, common.step(steps.set_sign, "member_id", "code")),
    (REV_C, common.step(steps.ask_comment, "member_id")),
    (REV_CX, common.step(steps.set_comment, "member_id", text=None)),
    (REV_B, common.step(steps.back_to_list, flow=steps.REVIEW_FLOW)),
    (REV_PG, common.step(steps.set_page, "page", flow=steps.REVIEW_FLOW)),
    (REV_MO, common.step(steps.set_month, "year", "month")),
    (REV_W, common.step(steps.show_watch)),
    (REV_ALL, _all),
)


def _end(s: Session, env: Env, key: int) -> flows.Screen:
    """Closes the review (everything was saved as it went)."""
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


def _sign_recorded(env: Env, session: Session, draft: Draft) -> flows.Screen:
    text, rows = render_review(env, session, draft)
    return env.t.gettext("⚠️ New sign of degradation recorded.") + "\n\n" + text, rows


def _begin_review(env: Env, session: Session, args: dict[str, Any]) -> Draft:
    org, year, month = int(args["org"]), int(args["y"]), int(args["m"])
    return common.call(steps.start_review, session, env, org_id=org, year=year, month=month)


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
        steps.ReviewState.DESC.value: common.typed(steps.set_description, render_review),
        steps.ReviewState.MEASURE.value: common.typed(steps.set_measure, _sign_recorded),
        steps.ReviewState.COMMENT.value: common.typed(steps.set_comment, render_review),
    },
    begin=_begin_review,
    lost=_lost_review,
)


on_end = common.end_button(REV_END, _end, render_review)
