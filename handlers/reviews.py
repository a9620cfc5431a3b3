"""/review (/camket): the monthly review of members' commitments; /commitments: who signed.

The cell's head goes through the members in or after the monthly meeting: one tap per member
(progressing, no change, or a new sign of degradation, which asks for its group, a short
description and the measure agreed), or "everyone else progressing" for the common case.
Progress lives in a draft (flow ``review`` / ``commitments``) saved at every step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import CommandHandler

from documents.reports import GROUP_LABELS, OUTCOME_ICONS, group_label, outcome_label
from domain.access import CELL_WRITERS, may_use
from domain.errors import InvalidInput, NotAllowed, NotInScope, StaleAction
from domain.i18n import N_
from domain.rules import reviews as rules
from domain.rules.periods import PeriodError, parse_period
from domain.text import h, truncate
from handlers import flows
from handlers.base import Context, Env, button, command, send
from handlers.callbacks import ID, MONTH, YEAR, Family, choice
from storage import drafts, reviews
from storage import review_steps as steps
from storage.models import Draft, MemberStatus, ReviewOutcome, Role, SignGroup

PAGE = 30  # members per screen (two per row)
NAME_MAX = 28

OUTCOME_CODES = {"p": ReviewOutcome.PROGRESSING, "n": ReviewOutcome.NO_CHANGE, "s": None}
GROUP_CODES = {
    "pol": SignGroup.POLITICAL,
    "eth": SignGroup.ETHICS,
    "sel": SignGroup.SELF_EVOLUTION,
}
GROUP_CODE_OF = {g: c for c, g in GROUP_CODES.items()}
STATUS_LABELS = {
    MemberStatus.FULL: N_("full member"),
    MemberStatus.PROBATIONARY: N_("probationary"),
    MemberStatus.EXEMPT: N_("exempt (miễn sinh hoạt)"),
    MemberStatus.TRANSFERRED: N_("transferred out"),
    MemberStatus.REMOVED: N_("removed"),
}


# --- Buttons: one declaration per family (data, pattern and parser) ----------------------------

_GROUP = choice(*GROUP_CODES)
REV_CELL = Family("rev:cell", (ID, YEAR, MONTH))
REV_M = Family("rev:m", (ID, ID))
REV_O = Family("rev:o", (ID, ID, choice(*OUTCOME_CODES)))
REV_G = Family("rev:g", (ID, ID, _GROUP))
REV_C = Family("rev:c", (ID, ID))
REV_CX = Family("rev:cx", (ID, ID))
REV_B = Family("rev:b", (ID,))
REV_PG = Family("rev:pg", (ID, ID))
REV_MO = Family("rev:mo", (ID, YEAR, MONTH))
REV_W = Family("rev:w", (ID,))
REV_ALL = Family("rev:all", (ID,))
REV_END = Family("rev:end", (ID,))
CMT_CELL = Family("cmt:cell", (ID, YEAR))
CMT_M = Family("cmt:m", (ID, ID))
CMT_T = Family("cmt:t", (ID, ID))
CMT_D = Family("cmt:d", (ID, ID))
CMT_I = Family("cmt:i", (ID, ID, choice(*GROUP_CODES, "x")))
CMT_IG = Family("cmt:ig", (ID, ID, _GROUP))
CMT_IX = Family("cmt:ix", (ID, ID))
CMT_PUB = Family("cmt:pub", (ID, ID, choice("0", "1")))
CMT_B = Family("cmt:b", (ID,))
CMT_PG = Family("cmt:pg", (ID, ID))
CMT_ALL = Family("cmt:all", (ID,))
CMT_END = Family("cmt:end", (ID,))


# --- Shared helpers ------------------------------------------------------------------------------


def writer_cells(env: Env) -> dict[int, str]:
    """The cells the person manages (secretary or deputy), id → name."""

    return {r.org_id: r.org_name for r in env.who.orgs_with(*CELL_WRITERS)}


def require_writer(env: Env, org_id: int, command_name: str = "review") -> None:
    """Check again, on every press, that the person may write this cell's records."""

    if not may_use(command_name, env.who.role_set):
        raise NotAllowed()
    if org_id not in writer_cells(env):
        raise NotInScope()


def _name(name: str) -> str:
    return truncate(name, NAME_MAX)


def _status_note(env: Env, status: MemberStatus) -> str:
    return "" if status is MemberStatus.FULL else f" ({env.t.gettext(STATUS_LABELS[status])})"


def _month_arg(env: Env, args: list[str]) -> tuple[int, int]:
    today = env.today()
    if not args:
        return today.year, today.month
    try:
        period = parse_period(args[0])
    except PeriodError as exc:
        raise InvalidInput(N_("Please give a month like 10/2026.")) from exc
    if period.kind != "month":
        raise InvalidInput(N_("Please give a month like 10/2026."))
    rules.check_review_month(period.year, period.index, today)
    return period.year, period.index


# --- /review -------------------------------------------------------------------------------------


@command("review")
async def review_command(update: Update, context: Context, env: Env) -> None:
    """Opens the month's review board of the secretary's cell (or asks which cell)."""

    year, month = _month_arg(env, list(context.args or []))
    cells = writer_cells(env)
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
    require_writer(env, org)
    rules.check_review_month(year, month, env.today())
    await _start_review(update, context, env, org, year, month)


def render_review(env: Env, session: Session, draft: Draft) -> flows.Screen:
    """The screen of the review flow's current step."""
    data = draft.data
    board = reviews.month_board(session, org_id=data["org"], year=data["y"], month=data["m"])
    if draft.state in ("member", "group", "desc", "measure", "comment"):
        line = board.line(int(data.get("member", 0)))
        if line is None:
            return _board_screen(env, session, draft, board)
        if draft.state == "member":
            return _member_screen(env, draft, board, line)
        return _detail_screen(env, draft, board, line)
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
                description=h(review.description or ""),
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
        rows.append(
            [
                (_("✅ Progressing"), REV_O.data(d, mid, "p")),
                (_("➖ No change"), REV_O.data(d, mid, "n")),
            ]
        )
        rows.append([(_("⚠️ New sign of degradation"), REV_O.data(d, mid, "s"))])
    if line.review is not None:
        rows.append([(_("💬 Comment"), REV_C.data(d, mid))])
    rows.append([(_("◀ Back to the list"), REV_B.data(d))])
    return "\n".join(lines), rows


def _detail_screen(
    env: Env, draft: Draft, board: reviews.MonthBoard, line: reviews.MemberLine
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


async def _review_step(
    update: Update, context: Context, env: Env, use_case: Callable[[Session], Draft]
) -> None:
    await flows.step(update, context, env, use_case, render=render_review)


@button
async def on_member(update: Update, context: Context, env: Env) -> None:
    """Opens one member's review."""
    key, member = REV_M.args(update)
    await _review_step(
        update,
        context,
        env,
        lambda s: steps.open_member(
            s, person_id=env.person_id, key=key, member_id=member, now=env.now()
        ),
    )


@button
async def on_outcome(update: Update, context: Context, env: Env) -> None:
    """Records progressing / no change, or asks for the group of a new sign."""
    key, member, code = REV_O.args(update)
    if code not in OUTCOME_CODES:
        raise StaleAction()
    await _review_step(
        update,
        context,
        env,
        lambda s: steps.set_outcome(
            s,
            person_id=env.person_id,
            key=key,
            member_id=member,
            outcome=OUTCOME_CODES[code],
            actor=env.who.actor(),
            today=env.today(),
            now=env.now(),
        ),
    )


@button
async def on_group(update: Update, context: Context, env: Env) -> None:
    """Stores the group of a new sign and asks for its description."""
    key, member, code = REV_G.args(update)
    if code not in GROUP_CODES:
        raise StaleAction()
    await _review_step(
        update,
        context,
        env,
        lambda s: steps.set_group(
            s,
            person_id=env.person_id,
            key=key,
            member_id=member,
            group=GROUP_CODES[code],
            now=env.now(),
        ),
    )


@button
async def on_comment(update: Update, context: Context, env: Env) -> None:
    """Asks for a comment on a member's review."""
    key, member = REV_C.args(update)
    await _review_step(
        update,
        context,
        env,
        lambda s: steps.ask_comment(
            s, person_id=env.person_id, key=key, member_id=member, now=env.now()
        ),
    )


@button
async def on_comment_remove(update: Update, context: Context, env: Env) -> None:
    """Removes a member's comment and goes back to the list."""
    key, member = REV_CX.args(update)
    await _review_step(
        update,
        context,
        env,
        lambda s: steps.set_comment(
            s,
            person_id=env.person_id,
            key=key,
            text=None,
            member_id=member,
            actor=env.who.actor(),
            now=env.now(),
        ),
    )


@button
async def on_back(update: Update, context: Context, env: Env) -> None:
    """Goes back to the member list (a half-typed new sign is dropped)."""
    (key,) = REV_B.args(update)
    await _review_step(
        update,
        context,
        env,
        lambda s: steps.back_to_board(s, person_id=env.person_id, key=key, now=env.now()),
    )


@button
async def on_page(update: Update, context: Context, env: Env) -> None:
    """Shows another page of members."""
    key, page = REV_PG.args(update)
    await _review_step(
        update,
        context,
        env,
        lambda s: steps.set_review_page(
            s, person_id=env.person_id, key=key, page=page, now=env.now()
        ),
    )


@button
async def on_month(update: Update, context: Context, env: Env) -> None:
    """Switches the board to another month (not a future one)."""
    key, year, month = REV_MO.args(update)
    await _review_step(
        update,
        context,
        env,
        lambda s: steps.set_month(
            s,
            person_id=env.person_id,
            key=key,
            year=year,
            month=month,
            today=env.today(),
            now=env.now(),
        ),
    )


@button
async def on_watch(update: Update, context: Context, env: Env) -> None:
    """Shows the cell's members under watch."""
    (key,) = REV_W.args(update)
    await _review_step(
        update,
        context,
        env,
        lambda s: steps.show_watch(s, person_id=env.person_id, key=key, now=env.now()),
    )


@button
async def on_all(update: Update, context: Context, env: Env) -> None:
    """Records "progressing" for everyone not yet reviewed this month."""
    (key,) = REV_ALL.args(update)

    def use_case(s: Session) -> Draft:
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

    await _review_step(update, context, env, use_case)


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


def _typed(update: Update) -> str:
    assert update.effective_message is not None
    return update.effective_message.text or ""


async def on_description(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Stores the typed description of a new sign and asks for the measure."""
    key, text = drafts.key(draft), _typed(update)
    await _review_step(
        update,
        context,
        env,
        lambda s: steps.set_description(
            s, person_id=env.person_id, key=key, text=text, now=env.now()
        ),
    )


async def on_measure(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Saves the new sign of degradation with its measure and goes back to the list."""
    key, text = drafts.key(draft), _typed(update)

    def use_case(s: Session) -> Draft:
        new = steps.set_measure(
            s,
            person_id=env.person_id,
            key=key,
            text=text,
            actor=env.who.actor(),
            today=env.today(),
            now=env.now(),
        )
        return new

    def render(env: Env, session: Session, draft: Draft) -> flows.Screen:
        text, rows = render_review(env, session, draft)
        return env.t.gettext("⚠️ New sign of degradation recorded.") + "\n\n" + text, rows

    await flows.step(update, context, env, use_case, render=render)


async def on_comment_text(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Saves the typed comment and goes back to the list."""
    key, text = drafts.key(draft), _typed(update)
    await _review_step(
        update,
        context,
        env,
        lambda s: steps.set_comment(
            s, person_id=env.person_id, key=key, text=text, actor=env.who.actor(), now=env.now()
        ),
    )


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
    if data.get("desc"):
        parts.append(data["desc"])
    name = member.name if member is not None else "?"
    return [h(f"{name}: " + ", ".join(parts))]


flows.register(
    flows.Flow(
        name=steps.REVIEW_FLOW,
        title=N_("monthly review of commitments"),
        render=render_review,
        text_steps={
            steps.ReviewState.DESC.value: on_description,
            steps.ReviewState.MEASURE.value: on_measure,
            steps.ReviewState.COMMENT.value: on_comment_text,
        },
        begin=_begin_review,
        lost=_lost_review,
    )
)


# --- /commitments --------------------------------------------------------------------------------


def _reader_cells(env: Env) -> dict[int, str]:

    return {r.org_id: r.org_name for r in env.who.orgs_with(*CELL_WRITERS, Role.COMMITTEE_MEMBER)}


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
    writers = writer_cells(env)
    if len(writers) > 1:
        rows = [[(truncate(name, 40), CMT_CELL.data(oid, year))] for oid, name in writers.items()]
        await send(env, context, env.t.gettext("Which cell?"), rows)
        return
    if writers:
        await _start_commitments(update, context, env, next(iter(writers)), year)
        return
    readers = _reader_cells(env)
    if not readers:
        raise NotAllowed()
    with env.db.transaction() as session:
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
    require_writer(env, org, "commitments")
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


async def _commit_step(
    update: Update, context: Context, env: Env, use_case: Callable[[Session], Draft]
) -> None:
    await flows.step(update, context, env, use_case, render=render_commitments)


@button
async def on_c_member(update: Update, context: Context, env: Env) -> None:
    """Opens one member's commitment."""
    key, member = CMT_M.args(update)
    await _commit_step(
        update,
        context,
        env,
        lambda s: steps.open_commitment(
            s, person_id=env.person_id, key=key, member_id=member, now=env.now()
        ),
    )


@button
async def on_c_today(update: Update, context: Context, env: Env) -> None:
    """Records the commitment as signed today and goes back to the list."""
    key, member = CMT_T.args(update)
    await _commit_step(
        update,
        context,
        env,
        lambda s: steps.signed_today(
            s,
            person_id=env.person_id,
            key=key,
            member_id=member,
            actor=env.who.actor(),
            today=env.today(),
            now=env.now(),
        ),
    )


@button
async def on_c_date(update: Update, context: Context, env: Env) -> None:
    """Asks for the date the commitment was signed."""
    key, member = CMT_D.args(update)
    await _commit_step(
        update,
        context,
        env,
        lambda s: steps.ask_date(
            s, person_id=env.person_id, key=key, member_id=member, now=env.now()
        ),
    )


@button
async def on_c_item(update: Update, context: Context, env: Env) -> None:
    """Asks for a shortcoming of the chosen group (or a typed one)."""
    key, member, code = CMT_I.args(update)
    if code != "x" and code not in GROUP_CODES:
        raise StaleAction()
    await _commit_step(
        update,
        context,
        env,
        lambda s: steps.ask_item(
            s,
            person_id=env.person_id,
            key=key,
            member_id=member,
            group=GROUP_CODES.get(code),
            now=env.now(),
        ),
    )


@button
async def on_c_item_group(update: Update, context: Context, env: Env) -> None:
    """Adds an item naming just the group, and goes back to the member."""
    key, member, code = CMT_IG.args(update)
    if code not in GROUP_CODES:
        raise StaleAction()
    await _commit_step(
        update,
        context,
        env,
        lambda s: steps.add_item(
            s,
            person_id=env.person_id,
            key=key,
            member_id=member,
            group=GROUP_CODES[code],
            text=None,
            actor=env.who.actor(),
            now=env.now(),
        ),
    )


@button
async def on_c_clear(update: Update, context: Context, env: Env) -> None:
    """Removes every item of the member's commitment."""
    key, member = CMT_IX.args(update)
    await _commit_step(
        update,
        context,
        env,
        lambda s: steps.clear_items(
            s,
            person_id=env.person_id,
            key=key,
            member_id=member,
            actor=env.who.actor(),
            now=env.now(),
        ),
    )


@button
async def on_c_public(update: Update, context: Context, env: Env) -> None:
    """Sets whether the commitment was made public."""
    key, member, flag = CMT_PUB.args(update)
    if flag not in ("0", "1"):
        raise StaleAction()
    await _commit_step(
        update,
        context,
        env,
        lambda s: steps.set_public(
            s,
            person_id=env.person_id,
            key=key,
            member_id=member,
            public=flag == "1",
            actor=env.who.actor(),
            now=env.now(),
        ),
    )


@button
async def on_c_back(update: Update, context: Context, env: Env) -> None:
    """Goes back to the member list."""
    (key,) = CMT_B.args(update)
    await _commit_step(
        update,
        context,
        env,
        lambda s: steps.back_to_list(s, person_id=env.person_id, key=key, now=env.now()),
    )


@button
async def on_c_page(update: Update, context: Context, env: Env) -> None:
    """Shows another page of members."""
    key, page = CMT_PG.args(update)
    await _commit_step(
        update,
        context,
        env,
        lambda s: steps.set_commit_page(
            s, person_id=env.person_id, key=key, page=page, now=env.now()
        ),
    )


@button
async def on_c_all(update: Update, context: Context, env: Env) -> None:
    """Records a commitment signed today for every member still without one."""
    (key,) = CMT_ALL.args(update)

    def use_case(s: Session) -> Draft:
        draft, done, skipped = steps.all_signed_today(
            s,
            person_id=env.person_id,
            key=key,
            actor=env.who.actor(),
            today=env.today(),
            now=env.now(),
        )
        note = env.t.ngettext(
            "{n} commitment recorded.", "{n} commitments recorded.", done
        ).format(n=done)
        if skipped:
            note += " " + env.t.ngettext(
                "{n} member skipped (admitted later).",
                "{n} members skipped (admitted later).",
                skipped,
            ).format(n=skipped)
        env.notice = note
        return draft

    await _commit_step(update, context, env, use_case)


@button
async def on_c_end(update: Update, context: Context, env: Env) -> None:
    """Closes the commitments list."""
    (key,) = CMT_END.args(update)

    def done(s: Session) -> flows.Screen:
        board = steps.end_commitments(s, person_id=env.person_id, key=key)
        return _commitments_text(env, board), None

    await flows.step(update, context, env, lambda s: None, render=render_commitments, done=done)


async def on_c_date_text(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Records the commitment with the typed signing date."""
    key, text = drafts.key(draft), _typed(update)
    await _commit_step(
        update,
        context,
        env,
        lambda s: steps.signed_on(
            s,
            person_id=env.person_id,
            key=key,
            text=text,
            actor=env.who.actor(),
            today=env.today(),
            now=env.now(),
        ),
    )


async def on_c_item_text(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Adds the typed shortcoming to the member's commitment."""
    key, text = drafts.key(draft), _typed(update)
    await _commit_step(
        update,
        context,
        env,
        lambda s: steps.add_item(
            s,
            person_id=env.person_id,
            key=key,
            member_id=None,
            group=None,
            text=text,
            actor=env.who.actor(),
            now=env.now(),
        ),
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


flows.register(
    flows.Flow(
        name=steps.COMMIT_FLOW,
        title=N_("members' commitments"),
        render=render_commitments,
        text_steps={
            steps.CommitState.DATE.value: on_c_date_text,
            steps.CommitState.ITEM.value: on_c_item_text,
        },
        begin=_begin_commitments,
        lost=_lost_commitment,
    )
)


def handlers() -> list[object]:
    """The handlers of /review and /commitments."""
    return [
        CommandHandler(["review", "camket"], review_command),
        CommandHandler("commitments", commitments_command),
        REV_CELL.handler(on_review_cell),
        REV_M.handler(on_member),
        REV_O.handler(on_outcome),
        REV_G.handler(on_group),
        REV_C.handler(on_comment),
        REV_CX.handler(on_comment_remove),
        REV_B.handler(on_back),
        REV_PG.handler(on_page),
        REV_MO.handler(on_month),
        REV_W.handler(on_watch),
        REV_ALL.handler(on_all),
        REV_END.handler(on_end),
        CMT_CELL.handler(on_commitments_cell),
        CMT_M.handler(on_c_member),
        CMT_T.handler(on_c_today),
        CMT_D.handler(on_c_date),
        CMT_I.handler(on_c_item),
        CMT_IG.handler(on_c_item_group),
        CMT_IX.handler(on_c_clear),
        CMT_PUB.handler(on_c_public),
        CMT_B.handler(on_c_back),
        CMT_PG.handler(on_c_page),
        CMT_ALL.handler(on_c_all),
        CMT_END.handler(on_c_end),
    ]
