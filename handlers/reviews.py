"""/review (/camket): the monthly review of members' commitments; /commitments: who signed.

The cell's head goes through the members in or after the monthly meeting: one tap per member
(progressing, no change, or a new sign of degradation, which asks for its group, a short
description and the measure agreed), or "everyone else progressing" for the common case.
Progress lives in a draft (flow ``review`` / ``commitments``) saved at every step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from documents.reports import GROUP_LABELS, OUTCOME_ICONS, group_label, outcome_label
from domain import access
from domain.errors import InvalidInput, NotAllowed, StaleAction
from domain.i18n import N_
from domain.rules import reviews as rules
from domain.rules.periods import PeriodError, parse_period
from domain.text import h, truncate
from handlers import flows
from handlers.base import Context, Env, button, command, int_arg, parse_data, send, show
from storage import access as access_facts
from storage import drafts, reviews
from storage.models import Draft, MemberStatus, ReviewOutcome, SignGroup

PAGE = 30  # members per screen (two per row)
#: What a button does inside the step's transaction; it may return a short notice to show.
Act = Callable[[Session, Draft, list[str]], Awaitable[str | None]]
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
REVIEW_STATES = ("board", "member", "group", "desc", "measure", "comment", "watch")
COMMIT_STATES = ("list", "member", "date", "item")


# --- Shared helpers ------------------------------------------------------------------------------


def writer_cells(session: Session, env: Env) -> dict[int, str]:
    """The cells the person manages (secretary or deputy), id → name, read in ``session``."""
    assert env.who is not None
    who = access_facts.holder(session, env.who.person_id)
    return {c.id: c.name for c in access.writable_cells(who)}


def require_writer(session: Session, env: Env, org_id: int, command_name: str = "review") -> None:
    """Check again, on every press and in the step's transaction, that the person may write
    this cell's records."""
    assert env.who is not None
    access.require_write(access_facts.holder(session, env.who.person_id), org_id, command_name)


def _button_args(update: Update, prefix: str, count: int) -> list[str]:
    args = parse_data(update.callback_query.data if update.callback_query else None, prefix)
    if len(args) != count:
        raise StaleAction()
    return args


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
    assert env.who is not None
    year, month = _month_arg(env, list(context.args or []))
    with env.db.transaction() as session:
        cells = writer_cells(session, env)
    if not cells:
        raise NotAllowed()
    if len(cells) > 1:
        rows = [
            [(truncate(name, 40), f"rev:cell:{oid}:{year}:{month}")] for oid, name in cells.items()
        ]
        await send(env, context, env.t.gettext("Which cell?"), rows)
        return
    org_id = next(iter(cells))
    await _start_review(update, context, env, org_id, year, month)


async def _start_review(
    update: Update, context: Context, env: Env, org_id: int, year: int, month: int
) -> None:
    assert env.who is not None
    with env.db.transaction() as session:
        require_writer(session, env, org_id)
        # Reviews saved before the month's meeting was recorded join it now.
        reviews.link_meeting(
            session, org_id=org_id, year=year, month=month, actor=env.who.actor(), now=env.now()
        )
        draft = drafts.start(
            session,
            person_id=env.who.person_id,
            flow="review",
            state="board",
            data={"org": org_id, "y": year, "m": month, "page": 0},
            now=env.now(),
        )
        text, rows = render_review(env, session, draft)
    await show(update, env, context, text, rows)


@button
async def on_review_cell(update: Update, context: Context, env: Env) -> None:
    """Starts the review of the chosen cell."""
    org, year, month = (int_arg(a) for a in _button_args(update, "rev:cell", 3))
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
    d = draft.id
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
                    f"rev:all:{d}",
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
                    f"rev:m:{d}:{m.member_id}",
                )
                for m in chunk[i : i + 2]
            ]
        )
    if pages > 1:
        nav = []
        if page > 0:
            nav.append((_("◀ Previous"), f"rev:pg:{d}:{page - 1}"))
        if page < pages - 1:
            nav.append((_("Next ▶"), f"rev:pg:{d}:{page + 1}"))
        rows.append(nav)
    extra = []
    if watch:
        extra.append((_("👁 Under watch ({n})").format(n=len(watch)), f"rev:w:{d}"))
    prev_y, prev_m = rules.month_of_index(rules.month_index(board.year, board.month) - 1)
    extra.append((f"📅 {env.t.month(prev_y, prev_m)}", f"rev:mo:{d}:{prev_y}:{prev_m}"))
    today = env.today()
    if (board.year, board.month) != (today.year, today.month):
        extra.append(
            (
                f"📅 {env.t.month(today.year, today.month)}",
                f"rev:mo:{d}:{today.year}:{today.month}",
            )
        )
    rows.append(extra)
    rows.append([(_("✔ Done"), f"rev:end:{d}")])
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
    d, mid = draft.id, line.member_id
    lines = [
        f"<b>{h(line.name)}</b>{h(_status_note(env, line.status))} — "
        f"{env.t.month(board.year, board.month)}",
        *_review_lines(env, line),
    ]
    rows: list[list[tuple[str, str]]] = []
    if line.reason is None:
        rows.append(
            [
                (_("✅ Progressing"), f"rev:o:{d}:{mid}:p"),
                (_("➖ No change"), f"rev:o:{d}:{mid}:n"),
            ]
        )
        rows.append([(_("⚠️ New sign of degradation"), f"rev:o:{d}:{mid}:s")])
    if line.review is not None:
        rows.append([(_("💬 Comment"), f"rev:c:{d}:{mid}")])
    rows.append([(_("◀ Back to the list"), f"rev:b:{d}")])
    return "\n".join(lines), rows


def _detail_screen(
    env: Env, draft: Draft, board: reviews.MonthBoard, line: reviews.MemberLine
) -> flows.Screen:
    _ = env.t.gettext
    d, mid = draft.id, line.member_id
    head = f"<b>{h(line.name)}</b> — {env.t.month(board.year, board.month)}"
    back = [(_("◀ Back to the list"), f"rev:b:{d}")]
    if draft.state == "group":
        rows = [
            [(env.t.gettext(GROUP_LABELS[g]), f"rev:g:{d}:{mid}:{c}")]
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
        rows.insert(0, [(_("🗑 Remove the comment"), f"rev:cx:{d}:{mid}")])
    return head + "\n" + _("Type a short comment on this member's review."), rows


def _watch_screen(env: Env, session: Session, draft: Draft) -> flows.Screen:
    _ = env.t.gettext
    assert env.who is not None
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
    return "\n".join(lines), [[(_("◀ Back to the list"), f"rev:b:{draft.id}")]]


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


async def _step(
    update: Update,
    context: Context,
    env: Env,
    prefix: str,
    count: int,
    states: tuple[str, ...],
    act: Act,
) -> None:
    """Load the draft behind a button, check it is current and the person may act, run
    ``act(session, draft, args)`` and show the resulting screen — all in one transaction."""
    assert env.who is not None
    args = _button_args(update, prefix, count)
    draft_id = int_arg(args[0])
    with env.db.transaction() as session:
        draft = flows.guard(drafts.get(session, env.who.person_id), draft_id, *states)
        if draft.flow != "review":
            raise StaleAction()
        require_writer(session, env, draft.data["org"])
        note = await act(session, draft, args[1:])
        text, rows = render_review(env, session, draft)
    env.answer = note or None
    await show(update, env, context, text, rows)


@button
async def on_member(update: Update, context: Context, env: Env) -> None:
    """Opens one member's review."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        drafts.advance(draft, state="member", now=env.now(), member=int_arg(args[0]))

    await _step(update, context, env, "rev:m", 2, REVIEW_STATES, act)


@button
async def on_outcome(update: Update, context: Context, env: Env) -> str | None:
    """Records progressing / no change, or asks for the group of a new sign."""
    assert env.who is not None

    async def act(session: Session, draft: Draft, args: list[str]) -> str | None:
        member_id, code = int_arg(args[0]), args[1]
        if code not in OUTCOME_CODES:
            raise StaleAction()
        if code == "s":
            drafts.advance(draft, state="group", now=env.now(), member=member_id)
            return None
        reviews.record_review(
            session,
            org_id=draft.data["org"],
            member_id=member_id,
            year=draft.data["y"],
            month=draft.data["m"],
            outcome=OUTCOME_CODES[code],
            actor=env.who.actor(),
            now=env.now(),
            today=env.today(),
        )
        drafts.advance(draft, state="board", now=env.now(), member=None)
        return None

    await _step(update, context, env, "rev:o", 3, ("board", "member", "group"), act)
    return None


@button
async def on_group(update: Update, context: Context, env: Env) -> None:
    """Stores the group of a new sign and asks for its description."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        member_id, code = int_arg(args[0]), args[1]
        if code not in GROUP_CODES or draft.data.get("member") != member_id:
            raise StaleAction()
        drafts.advance(
            draft, state="desc", now=env.now(), group=GROUP_CODES[code].value, desc=None
        )

    await _step(update, context, env, "rev:g", 3, ("group", "desc"), act)


@button
async def on_comment(update: Update, context: Context, env: Env) -> None:
    """Asks for a comment on a member's review."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        drafts.advance(draft, state="comment", now=env.now(), member=int_arg(args[0]))

    await _step(update, context, env, "rev:c", 2, ("board", "member", "comment"), act)


@button
async def on_comment_remove(update: Update, context: Context, env: Env) -> None:
    """Removes a member's comment and goes back to the list."""
    assert env.who is not None

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        reviews.set_comment(
            session,
            org_id=draft.data["org"],
            member_id=int_arg(args[0]),
            year=draft.data["y"],
            month=draft.data["m"],
            comment=None,
            actor=env.who.actor(),
            now=env.now(),
        )
        drafts.advance(draft, state="board", now=env.now(), member=None)

    await _step(update, context, env, "rev:cx", 2, ("comment",), act)


@button
async def on_back(update: Update, context: Context, env: Env) -> None:
    """Goes back to the member list (a half-typed new sign is dropped)."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        drafts.advance(draft, state="board", now=env.now(), member=None, desc=None)

    await _step(update, context, env, "rev:b", 1, REVIEW_STATES, act)


@button
async def on_page(update: Update, context: Context, env: Env) -> None:
    """Shows another page of members."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        drafts.advance(draft, state="board", now=env.now(), page=max(0, int_arg(args[0])))

    await _step(update, context, env, "rev:pg", 2, REVIEW_STATES, act)


@button
async def on_month(update: Update, context: Context, env: Env) -> None:
    """Switches the board to another month (not a future one)."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        year, month = int_arg(args[0]), int_arg(args[1])
        rules.check_review_month(year, month, env.today())
        drafts.advance(draft, state="board", now=env.now(), y=year, m=month, page=0, member=None)

    await _step(update, context, env, "rev:mo", 3, REVIEW_STATES, act)


@button
async def on_watch(update: Update, context: Context, env: Env) -> None:
    """Shows the cell's members under watch."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        drafts.advance(draft, state="watch", now=env.now())

    await _step(update, context, env, "rev:w", 1, REVIEW_STATES, act)


@button
async def on_all(update: Update, context: Context, env: Env) -> None:
    """Records "progressing" for everyone not yet reviewed this month."""
    assert env.who is not None

    async def act(session: Session, draft: Draft, args: list[str]) -> str:
        done = reviews.mark_all_progressing(
            session,
            org_id=draft.data["org"],
            year=draft.data["y"],
            month=draft.data["m"],
            actor=env.who.actor(),
            now=env.now(),
            today=env.today(),
        )
        drafts.advance(draft, state="board", now=env.now(), member=None)
        return env.t.ngettext(
            "{n} member recorded as progressing.", "{n} members recorded as progressing.", done
        ).format(n=done)

    await _step(update, context, env, "rev:all", 1, ("board", "member"), act)


@button
async def on_end(update: Update, context: Context, env: Env) -> None:
    """Closes the review (everything was saved as it went)."""
    assert env.who is not None
    (draft_id,) = _button_args(update, "rev:end", 1)
    with env.db.transaction() as session:
        draft = flows.guard(drafts.get(session, env.who.person_id), int_arg(draft_id))
        require_writer(session, env, draft.data["org"])
        board = reviews.month_board(
            session, org_id=draft.data["org"], year=draft.data["y"], month=draft.data["m"]
        )
        drafts.finish(session, env.who.person_id)
    _ = env.t.gettext
    text = _("Review of {month} saved: {done} of {total} members reviewed.").format(
        month=env.t.month(board.year, board.month), done=board.reviewed, total=len(board.members)
    )
    if board.pending:
        text += "\n" + _("Not reviewed yet: {names}. Type /review to continue.").format(
            names=", ".join(h(m.name) for m in board.pending[:10])
            + ("…" if len(board.pending) > 10 else "")
        )
    await show(update, env, context, text)


async def on_description(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Stores the typed description of a new sign and asks for the measure."""
    assert env.who is not None and update.effective_message is not None
    text = update.effective_message.text or ""
    description = rules.check_description(text)
    with env.db.transaction() as session:
        current = flows.guard(drafts.get(session, env.who.person_id), draft.id, "desc")
        require_writer(session, env, current.data["org"])
        drafts.advance(current, state="measure", now=env.now(), desc=description)
        screen = render_review(env, session, current)
    await send(env, context, *screen)


async def on_measure(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Saves the new sign of degradation with its measure and goes back to the list."""
    assert env.who is not None and update.effective_message is not None
    measure = rules.check_measure(update.effective_message.text or "")
    with env.db.transaction() as session:
        current = flows.guard(drafts.get(session, env.who.person_id), draft.id, "measure")
        data = current.data
        require_writer(session, env, data["org"])
        reviews.record_review(
            session,
            org_id=data["org"],
            member_id=int(data["member"]),
            year=data["y"],
            month=data["m"],
            outcome=ReviewOutcome.NEW_SIGN,
            sign_group=SignGroup(data["group"]),
            description=data.get("desc"),
            measure=measure,
            actor=env.who.actor(),
            now=env.now(),
            today=env.today(),
        )
        drafts.advance(current, state="board", now=env.now(), member=None, desc=None)
        screen = render_review(env, session, current)
    await send(env, context, env.t.gettext("⚠️ New sign of degradation recorded."))
    await send(env, context, *screen)


async def on_comment_text(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Saves the typed comment and goes back to the list."""
    assert env.who is not None and update.effective_message is not None
    with env.db.transaction() as session:
        current = flows.guard(drafts.get(session, env.who.person_id), draft.id, "comment")
        data = current.data
        require_writer(session, env, data["org"])
        reviews.set_comment(
            session,
            org_id=data["org"],
            member_id=int(data["member"]),
            year=data["y"],
            month=data["m"],
            comment=update.effective_message.text or "",
            actor=env.who.actor(),
            now=env.now(),
        )
        drafts.advance(current, state="board", now=env.now(), member=None)
        screen = render_review(env, session, current)
    await send(env, context, *screen)


flows.register(
    flows.Flow(
        name="review",
        title=N_("monthly review of commitments"),
        render=render_review,
        text_steps={"desc": on_description, "measure": on_measure, "comment": on_comment_text},
    )
)


# --- /commitments --------------------------------------------------------------------------------


def _reader_cells(session: Session, env: Env) -> dict[int, str]:
    assert env.who is not None
    who = access_facts.holder(session, env.who.person_id)
    return {c.id: c.name for c in access.commitment_cells(who)}


@command("commitments")
async def commitments_command(update: Update, context: Context, env: Env) -> None:
    """Shows who in the cell still lacks a commitment for the year; secretaries can mark them."""
    assert env.who is not None
    today = env.today()
    year = today.year
    if context.args:
        try:
            year = int(context.args[0])
        except ValueError as exc:
            raise InvalidInput(N_("Please give a year like 2026.")) from exc
        if not 2000 <= year <= today.year + 1:
            raise InvalidInput(N_("Please give a year like 2026."))
    with env.db.transaction() as session:
        writers = writer_cells(session, env)
    if len(writers) > 1:
        rows = [[(truncate(name, 40), f"cmt:cell:{oid}:{year}")] for oid, name in writers.items()]
        await send(env, context, env.t.gettext("Which cell?"), rows)
        return
    if writers:
        await _start_commitments(update, context, env, next(iter(writers)), year)
        return
    with env.db.transaction() as session:
        readers = _reader_cells(session, env)
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
    assert env.who is not None
    with env.db.transaction() as session:
        require_writer(session, env, org_id, "commitments")
        draft = drafts.start(
            session,
            person_id=env.who.person_id,
            flow="commitments",
            state="list",
            data={"org": org_id, "year": year, "page": 0},
            now=env.now(),
        )
        text, rows = render_commitments(env, session, draft)
    await show(update, env, context, text, rows)


@button
async def on_commitments_cell(update: Update, context: Context, env: Env) -> None:
    """Opens the commitments of the chosen cell."""
    org, year = (int_arg(a) for a in _button_args(update, "cmt:cell", 2))
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
    d = draft.id
    line = board.line(int(data.get("member") or 0))
    if draft.state in ("member", "date", "item") and line is not None:
        head = f"<b>{h(line.name)}</b>{h(_status_note(env, line.status))} — " + _(
            "commitment {year}"
        ).format(year=board.year)
        back = [(_("◀ Back to the list"), f"cmt:b:{d}")]
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
            rows = [back]
            if group:
                rows.insert(
                    0,
                    [
                        (
                            _("Just the group"),
                            f"cmt:ig:{d}:{line.member_id}:{GROUP_CODE_OF[SignGroup(group)]}",
                        )
                    ],
                )
            return head + "\n" + prompt, rows
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
                (_("✍️ Signed today"), f"cmt:t:{d}:{mid}"),
                (_("📅 Type the date"), f"cmt:d:{d}:{mid}"),
            ]
        ]
        if line.signed:
            rows.extend(
                [("+ " + env.t.gettext(GROUP_LABELS[g]), f"cmt:i:{d}:{mid}:{c}")]
                for c, g in GROUP_CODES.items()
            )
            rows.append([(_("+ Other (typed)"), f"cmt:i:{d}:{mid}:x")])
            if line.items:
                rows.append([(_("🗑 Clear the items"), f"cmt:ix:{d}:{mid}")])
            rows.append(
                [(_("📢 Not made public"), f"cmt:pub:{d}:{mid}:0")]
                if line.made_public
                else [(_("📢 Made public"), f"cmt:pub:{d}:{mid}:1")]
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
                    f"cmt:all:{d}",
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
                (f"{'✅' if x.signed else '▫️'} {_name(x.name)}", f"cmt:m:{d}:{x.member_id}")
                for x in chunk[i : i + 2]
            ]
        )
    if pages > 1:
        nav = []
        if page > 0:
            nav.append((_("◀ Previous"), f"cmt:pg:{d}:{page - 1}"))
        if page < pages - 1:
            nav.append((_("Next ▶"), f"cmt:pg:{d}:{page + 1}"))
        rows.append(nav)
    rows.append([(_("✔ Done"), f"cmt:end:{d}")])
    return text, rows


async def _cstep(
    update: Update,
    context: Context,
    env: Env,
    prefix: str,
    count: int,
    states: tuple[str, ...],
    act: Act,
) -> None:
    assert env.who is not None
    args = _button_args(update, prefix, count)
    with env.db.transaction() as session:
        draft = flows.guard(drafts.get(session, env.who.person_id), int_arg(args[0]), *states)
        if draft.flow != "commitments":
            raise StaleAction()
        require_writer(session, env, draft.data["org"], "commitments")
        note = await act(session, draft, args[1:])
        text, rows = render_commitments(env, session, draft)
    env.answer = note or None
    await show(update, env, context, text, rows)


def _commit_kw(env: Env, draft: Draft, member_id: int) -> dict:
    assert env.who is not None
    return {
        "org_id": draft.data["org"],
        "member_id": member_id,
        "year": draft.data["year"],
        "actor": env.who.actor(),
        "now": env.now(),
    }


@button
async def on_c_member(update: Update, context: Context, env: Env) -> None:
    """Opens one member's commitment."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        drafts.advance(draft, state="member", now=env.now(), member=int_arg(args[0]))

    await _cstep(update, context, env, "cmt:m", 2, COMMIT_STATES, act)


@button
async def on_c_today(update: Update, context: Context, env: Env) -> None:
    """Records the commitment as signed today and goes back to the list."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        reviews.record_commitment(
            session,
            signed_on=env.today(),
            today=env.today(),
            **_commit_kw(env, draft, int_arg(args[0])),
        )
        drafts.advance(draft, state="list", now=env.now(), member=None)

    await _cstep(update, context, env, "cmt:t", 2, ("member", "list"), act)


@button
async def on_c_date(update: Update, context: Context, env: Env) -> None:
    """Asks for the date the commitment was signed."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        drafts.advance(draft, state="date", now=env.now(), member=int_arg(args[0]))

    await _cstep(update, context, env, "cmt:d", 2, ("member", "date"), act)


@button
async def on_c_item(update: Update, context: Context, env: Env) -> None:
    """Asks for a shortcoming of the chosen group (or a typed one)."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        code = args[1]
        if code != "x" and code not in GROUP_CODES:
            raise StaleAction()
        group = GROUP_CODES[code].value if code in GROUP_CODES else None
        drafts.advance(draft, state="item", now=env.now(), member=int_arg(args[0]), group=group)

    await _cstep(update, context, env, "cmt:i", 3, ("member", "item"), act)


@button
async def on_c_item_group(update: Update, context: Context, env: Env) -> None:
    """Adds an item naming just the group, and goes back to the member."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        if args[1] not in GROUP_CODES:
            raise StaleAction()
        reviews.add_commitment_item(
            session,
            sign_group=GROUP_CODES[args[1]],
            text=None,
            **_commit_kw(env, draft, int_arg(args[0])),
        )
        drafts.advance(draft, state="member", now=env.now(), group=None)

    await _cstep(update, context, env, "cmt:ig", 3, ("item", "member"), act)


@button
async def on_c_clear(update: Update, context: Context, env: Env) -> None:
    """Removes every item of the member's commitment."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        reviews.clear_commitment_items(session, **_commit_kw(env, draft, int_arg(args[0])))

    await _cstep(update, context, env, "cmt:ix", 2, ("member",), act)


@button
async def on_c_public(update: Update, context: Context, env: Env) -> None:
    """Sets whether the commitment was made public."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        if args[1] not in ("0", "1"):
            raise StaleAction()
        reviews.set_made_public(
            session, made_public=args[1] == "1", **_commit_kw(env, draft, int_arg(args[0]))
        )

    await _cstep(update, context, env, "cmt:pub", 3, ("member",), act)


@button
async def on_c_back(update: Update, context: Context, env: Env) -> None:
    """Goes back to the member list."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        drafts.advance(draft, state="list", now=env.now(), member=None, group=None)

    await _cstep(update, context, env, "cmt:b", 1, COMMIT_STATES, act)


@button
async def on_c_page(update: Update, context: Context, env: Env) -> None:
    """Shows another page of members."""

    async def act(session: Session, draft: Draft, args: list[str]) -> None:
        drafts.advance(draft, state="list", now=env.now(), page=max(0, int_arg(args[0])))

    await _cstep(update, context, env, "cmt:pg", 2, COMMIT_STATES, act)


@button
async def on_c_all(update: Update, context: Context, env: Env) -> None:
    """Records a commitment signed today for every member still without one."""
    assert env.who is not None

    async def act(session: Session, draft: Draft, args: list[str]) -> str:
        done, skipped = reviews.mark_all_signed(
            session,
            org_id=draft.data["org"],
            year=draft.data["year"],
            signed_on=env.today(),
            actor=env.who.actor(),
            now=env.now(),
            today=env.today(),
        )
        drafts.advance(draft, state="list", now=env.now(), member=None)
        note = env.t.ngettext(
            "{n} commitment recorded.", "{n} commitments recorded.", done
        ).format(n=done)
        if skipped:
            note += " " + env.t.ngettext(
                "{n} member skipped (admitted later).",
                "{n} members skipped (admitted later).",
                skipped,
            ).format(n=skipped)
        return note

    await _cstep(update, context, env, "cmt:all", 1, ("list",), act)


@button
async def on_c_end(update: Update, context: Context, env: Env) -> None:
    """Closes the commitments list."""
    assert env.who is not None
    (draft_id,) = _button_args(update, "cmt:end", 1)
    with env.db.transaction() as session:
        draft = flows.guard(drafts.get(session, env.who.person_id), int_arg(draft_id))
        require_writer(session, env, draft.data["org"], "commitments")
        board = reviews.commitment_board(
            session, org_id=draft.data["org"], year=draft.data["year"]
        )
        drafts.finish(session, env.who.person_id)
    await show(update, env, context, _commitments_text(env, board))


async def on_c_date_text(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Records the commitment with the typed signing date."""
    assert env.who is not None and update.effective_message is not None
    signed_on = rules.parse_day(update.effective_message.text or "", env.today())
    with env.db.transaction() as session:
        current = flows.guard(drafts.get(session, env.who.person_id), draft.id, "date")
        require_writer(session, env, current.data["org"], "commitments")
        reviews.record_commitment(
            session,
            signed_on=signed_on,
            today=env.today(),
            **_commit_kw(env, current, int(current.data["member"])),
        )
        drafts.advance(current, state="list", now=env.now(), member=None)
        screen = render_commitments(env, session, current)
    await send(env, context, *screen)


async def on_c_item_text(update: Update, context: Context, env: Env, draft: Draft) -> None:
    """Adds the typed shortcoming to the member's commitment."""
    assert env.who is not None and update.effective_message is not None
    with env.db.transaction() as session:
        current = flows.guard(drafts.get(session, env.who.person_id), draft.id, "item")
        require_writer(session, env, current.data["org"], "commitments")
        group = current.data.get("group")
        reviews.add_commitment_item(
            session,
            sign_group=SignGroup(group) if group else None,
            text=update.effective_message.text or "",
            **_commit_kw(env, current, int(current.data["member"])),
        )
        drafts.advance(current, state="member", now=env.now(), group=None)
        screen = render_commitments(env, session, current)
    await send(env, context, *screen)


flows.register(
    flows.Flow(
        name="commitments",
        title=N_("members' commitments"),
        render=render_commitments,
        text_steps={"date": on_c_date_text, "item": on_c_item_text},
    )
)


def handlers() -> list[object]:
    """The handlers of /review and /commitments."""
    return [
        CommandHandler(["review", "camket"], review_command),
        CommandHandler("commitments", commitments_command),
        CallbackQueryHandler(on_review_cell, pattern=r"^rev:cell:\d+:\d{4}:\d{1,2}$"),
        CallbackQueryHandler(on_member, pattern=r"^rev:m:\d+:\d+$"),
        CallbackQueryHandler(on_outcome, pattern=r"^rev:o:\d+:\d+:[pns]$"),
        CallbackQueryHandler(on_group, pattern=r"^rev:g:\d+:\d+:(pol|eth|sel)$"),
        CallbackQueryHandler(on_comment, pattern=r"^rev:c:\d+:\d+$"),
        CallbackQueryHandler(on_comment_remove, pattern=r"^rev:cx:\d+:\d+$"),
        CallbackQueryHandler(on_back, pattern=r"^rev:b:\d+$"),
        CallbackQueryHandler(on_page, pattern=r"^rev:pg:\d+:\d+$"),
        CallbackQueryHandler(on_month, pattern=r"^rev:mo:\d+:\d{4}:\d{1,2}$"),
        CallbackQueryHandler(on_watch, pattern=r"^rev:w:\d+$"),
        CallbackQueryHandler(on_all, pattern=r"^rev:all:\d+$"),
        CallbackQueryHandler(on_end, pattern=r"^rev:end:\d+$"),
        CallbackQueryHandler(on_commitments_cell, pattern=r"^cmt:cell:\d+:\d{4}$"),
        CallbackQueryHandler(on_c_member, pattern=r"^cmt:m:\d+:\d+$"),
        CallbackQueryHandler(on_c_today, pattern=r"^cmt:t:\d+:\d+$"),
        CallbackQueryHandler(on_c_date, pattern=r"^cmt:d:\d+:\d+$"),
        CallbackQueryHandler(on_c_item, pattern=r"^cmt:i:\d+:\d+:(pol|eth|sel|x)$"),
        CallbackQueryHandler(on_c_item_group, pattern=r"^cmt:ig:\d+:\d+:(pol|eth|sel)$"),
        CallbackQueryHandler(on_c_clear, pattern=r"^cmt:ix:\d+:\d+$"),
        CallbackQueryHandler(on_c_public, pattern=r"^cmt:pub:\d+:\d+:[01]$"),
        CallbackQueryHandler(on_c_back, pattern=r"^cmt:b:\d+$"),
        CallbackQueryHandler(on_c_page, pattern=r"^cmt:pg:\d+:\d+$"),
        CallbackQueryHandler(on_c_all, pattern=r"^cmt:all:\d+$"),
        CallbackQueryHandler(on_c_end, pattern=r"^cmt:end:\d+$"),
    ]
