"""Commitments and monthly reviews: use cases and the SQL aggregates behind boards and reports.

Every write runs inside the caller's transaction (one per use case), records an audit row with
before/after, and is idempotent: setting a value a record already holds changes nothing and
writes no audit row. The rules (who is reviewed, what a watch-list entry is) live in
:mod:`domain.rules.reviews`; this module gathers the facts, mostly as GROUP BY queries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from domain.errors import InvalidInput, NotInScope
from domain.i18n import N_
from domain.rules import membership as membership_rules
from domain.rules import reviews as rules
from domain.rules.membership import counting_day, covers
from domain.rules.signs import (
    RULE_SOURCE_SIGNS,
    Sign,
    parse_signs_markdown,
    signs_from_value,
    signs_value,
)
from storage import membership
from storage.audit import Actor, record, snapshot
from storage.models import (
    Commitment,
    Flag,
    Meeting,
    MeetingKind,
    Member,
    MemberPlacement,
    MemberStatus,
    Organization,
    Review,
    ReviewOutcome,
    Setting,
    SignGroup,
)
from storage.seed import get_setting

ACTIVE = [s for s in MemberStatus if s.is_active]
REGULAR_KINDS = [MeetingKind.REGULAR, MeetingKind.COMBINED]
FLAG_KIND = "no_progress"

#: Outcomes that show progress (đã / đang khắc phục): they end a run "without progress".
PROGRESS = [o for o in ReviewOutcome if o.shows_progress]
#: Where the admin's corrected list of the 27 signs is kept.
SIGNS_SETTING = "degradation_signs"
SIGNS_FILE = Path(__file__).parents[1] / "domain" / "data" / "signs-of-degradation.md"


@cache
def shipped_signs() -> tuple[Sign, ...]:
    """The shipped list (``domain/data/signs-of-degradation.md``)."""
    return parse_signs_markdown(SIGNS_FILE.read_text(encoding="utf-8"))


def signs_in_force(session: Session) -> tuple[Sign, ...]:
    """The 27 signs in force: the admin's corrected list, else the shipped one."""
    row = session.get(Setting, SIGNS_SETTING)
    if row is not None and isinstance(row.value, dict) and row.value.get("signs"):
        return signs_from_value(row.value["signs"])
    return shipped_signs()


def save_signs(
    session: Session, signs: tuple[Sign, ...], *, source: str, actor: Actor, now: datetime
) -> None:
    """Put a corrected list of the signs in force (checked by the caller; audited)."""
    value = {"signs": signs_value(signs)}
    row = session.get(Setting, SIGNS_SETTING)
    if row is None:
        session.add(
            Setting(
                key=SIGNS_SETTING,
                value=value,
                rule_source=RULE_SOURCE_SIGNS,
                updated_at=now,
                updated_by=actor.label[:120],
            )
        )
    else:
        row.value, row.updated_at, row.updated_by = value, now, actor.label[:120]
    record(
        session,
        actor=actor,
        at=now,
        action="load",
        entity="signs",
        after={"signs": len(signs), "source": source[:200]},
    )


def sign_code_counts(
    session: Session, *, cell_ids: list[int], months: list[tuple[int, int]]
) -> dict[str, int]:
    """Sign code → new signs found in ``months`` over ``cell_ids`` (reviews with a code)."""
    if not cell_ids or not months:
        return {}
    lo = min(y * 12 + m - 1 for y, m in months)
    hi = max(y * 12 + m - 1 for y, m in months)
    rows = session.execute(
        select(Review.sign_code, func.count(Review.id))
        .where(
            Review.org_id.in_(cell_ids),
            Review.outcome == ReviewOutcome.NEW_SIGN,
            Review.sign_code.is_not(None),
            Review.year.in_(sorted({y for y, _m in months})),
            month_idx >= lo,
            month_idx <= hi,
        )
        .group_by(Review.sign_code)
    ).all()
    return {str(code): int(n) for code, n in rows}


#: The month of a review as one integer (same formula as :func:`domain.rules.reviews.month_index`).
month_idx = Review.year * 12 + Review.month - 1

_REVIEW_FIELDS = [
    "outcome",
    "sign_code",
    "sign_group",
    "description",
    "measure",
    "comment",
    "meeting_id",
]


# --- Views ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingRef:
    """The regular meeting a month's review belongs to."""

    id: int
    held_on: date


@dataclass(frozen=True)
class ReviewView:
    """One member's review of one month."""

    outcome: ReviewOutcome
    sign_group: SignGroup | None
    description: str | None
    measure: str | None
    comment: str | None
    meeting_id: int | None
    sign_code: str | None = None  # the sign picked from the list (TT1 … TD9)


@dataclass(frozen=True)
class MemberLine:
    """A member on a month's review board."""

    member_id: int
    name: str
    status: MemberStatus
    review: ReviewView | None
    reason: rules.NotReviewable | None  # why the member is not reviewed this month


@dataclass
class MonthBoard:
    """A cell's review of one month: who is reviewed, with what outcome, and who is apart."""

    org_id: int
    org_name: str
    year: int
    month: int
    meeting: MeetingRef | None
    members: list[MemberLine] = field(default_factory=list)  # reviewed this month
    apart: list[MemberLine] = field(default_factory=list)  # exempt, not yet admitted, left

    @property
    def reviewed(self) -> int:
        """Members with a review this month."""
        return sum(1 for m in self.members if m.review is not None)

    @property
    def pending(self) -> list[MemberLine]:
        """Members not yet reviewed this month."""
        return [m for m in self.members if m.review is None]

    def count(self, outcome: ReviewOutcome) -> int:
        """Members reviewed with ``outcome`` this month."""
        return sum(1 for m in self.members if m.review and m.review.outcome is outcome)

    def line(self, member_id: int) -> MemberLine | None:
        """The board line of one member."""
        for m in (*self.members, *self.apart):
            if m.member_id == member_id:
                return m
        return None


# --- Helpers ----------------------------------------------------------------------------------


def facts_of(member: Member) -> rules.RollFacts:
    """The roll facts of a member row."""
    return rules.RollFacts(
        status=member.status,
        joined_on=rules.joined_on(member.admitted_on, member.ceremony_on),
        status_since=member.status_since,
    )


def _member_in_cell(session: Session, org_id: int, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None or member.org_id != org_id:
        raise NotInScope()
    return member


def _member_in_month(
    session: Session, org_id: int, member_id: int, year: int, month: int
) -> Member:
    """The member, when they belonged to the cell on the month's first day (a member
    transferred out on 15/06 is still reviewed by the old cell for June)."""
    member = session.get(Member, member_id)
    if member is None or not membership.placed_in(
        session, member_id, org_id, counting_day(year, month)
    ):
        raise NotInScope()
    return member


def _cell(session: Session, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None or not org.kind.holds_meetings:
        raise NotInScope()
    return org


def month_meeting(session: Session, org_id: int, year: int, month: int) -> MeetingRef | None:
    """The cell's live regular (or combined) meeting of the month, if one is recorded."""
    first, last = rules.month_bounds(year, month)
    row = session.execute(
        select(Meeting.id, Meeting.held_on)
        .where(
            Meeting.org_id == org_id,
            Meeting.deleted_at.is_(None),
            Meeting.kind.in_(REGULAR_KINDS),
            Meeting.held_on >= first,
            Meeting.held_on <= last,
        )
        .order_by(Meeting.held_on.desc(), Meeting.id.desc())
        .limit(1)
    ).first()
    return MeetingRef(row[0], row[1]) if row else None


def _roll_members(session: Session, org_id: int, since: date) -> list[Member]:
    """Members of the cell on the roll now, or who left it on or after ``since``."""
    stmt = select(Member).where(
        Member.org_id == org_id,
        or_(Member.status.in_(ACTIVE), Member.status_since >= since),
    )
    return sorted(session.scalars(stmt), key=lambda m: (m.name_folded.split()[-1:], m.name_folded))


def _view(review: Review) -> ReviewView:
    return ReviewView(
        review.outcome,
        review.sign_group,
        review.description,
        review.measure,
        review.comment,
        review.meeting_id,
        review.sign_code,
    )


def _no_progress_months(session: Session) -> int:
    value = get_setting(session, "no_progress_months")
    try:
        return int(value["months"])
    except (KeyError, TypeError, ValueError):
        return rules.NO_PROGRESS_MONTHS


# --- The month board and reviews --------------------------------------------------------------


def _month_facts(
    member: Member, periods: list[membership.StatusPeriod], year: int, month: int
) -> rules.RollFacts:
    """The member's roll facts in a month: as what they were on its first day."""
    status = membership.status_in_month(member, periods, year, month)
    return rules.facts_in_month(status, rules.joined_on(member.admitted_on, member.ceremony_on))


def month_board(session: Session, *, org_id: int, year: int, month: int) -> MonthBoard:
    """The review board of a cell for one month: the members who belonged to the cell on the
    month's first day, as what they were then (domain.rules.membership)."""
    org = _cell(session, org_id)
    reviews = {
        r.member_id: r
        for r in session.scalars(
            select(Review).where(
                Review.org_id == org_id, Review.year == year, Review.month == month
            )
        )
    }
    board = MonthBoard(org.id, org.name, year, month, month_meeting(session, org_id, year, month))
    placed = {
        m.id: m for m in membership.members_placed(session, org_id, counting_day(year, month))
    }
    missing = [mid for mid in reviews if mid not in placed]
    if missing:  # reviewed here that month although counted elsewhere: still shown
        placed.update(
            {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(missing)))}
        )
    history = membership.status_periods(session, list(placed))
    roll = sorted(placed.values(), key=lambda m: (m.name_folded.split()[-1:], m.name_folded))
    for member in roll:
        status = membership.status_in_month(member, history[member.id], year, month)
        reason = rules.not_reviewable(
            _month_facts(member, history[member.id], year, month), year, month
        )
        review = reviews.get(member.id)
        line = MemberLine(
            member.id, member.full_name, status, _view(review) if review else None, reason
        )
        if reason is None:
            board.members.append(line)
        elif reason is not rules.NotReviewable.LEFT or review is not None:
            board.apart.append(line)
    return board


def record_review(
    session: Session,
    *,
    org_id: int,
    member_id: int,
    year: int,
    month: int,
    outcome: ReviewOutcome,
    sign_group: SignGroup | None = None,
    description: str | None = None,
    measure: str | None = None,
    sign_code: str | None = None,
    actor: Actor,
    now: datetime,
    today: date,
) -> bool:
    """Record or correct one member's review of a month. Returns False when nothing changed.

    A new sign of degradation is picked from the signs in force (``sign_code``) with the
    measure agreed and an optional short note (``description``).

    Raises :class:`InvalidInput` for a future month, a member not reviewed that month, or a new
    sign of degradation without its group, description or measure.
    """
    _cell(session, org_id)
    member = _member_in_month(session, org_id, member_id, year, month)
    rules.check_review_month(year, month, today)
    periods = membership.status_periods(session, [member.id])[member.id]
    reason = rules.not_reviewable(_month_facts(member, periods, year, month), year, month)
    if reason is not None:
        raise InvalidInput(rules.NOT_REVIEWABLE_TEXT[reason], month=f"{month:02d}/{year}")
    if sign_code is not None and sign_code not in {x.code for x in signs_in_force(session)}:
        raise InvalidInput(N_("Please choose the sign of degradation from the list."))
    checked = rules.check_review(
        outcome,
        sign_group=sign_group,
        description=description,
        measure=measure,
        sign_code=sign_code,
    )
    meeting = month_meeting(session, org_id, year, month)
    review = session.scalar(
        select(Review).where(
            Review.member_id == member_id, Review.year == year, Review.month == month
        )
    )
    values: dict[str, Any] = {
        "outcome": checked.outcome,
        "sign_group": checked.sign_group,
        "description": checked.description,
        "measure": checked.measure,
        "sign_code": checked.sign_code,
    }
    if review is not None:
        if all(getattr(review, k) == v for k, v in values.items()):
            return False
        before = snapshot(review, _REVIEW_FIELDS)
        for key, value in values.items():
            setattr(review, key, value)
        review.meeting_id = review.meeting_id or (meeting.id if meeting else None)
        review.reviewed_by, review.reviewed_at = actor.person_id, now
        action = "update"
    else:
        before = None
        review = Review(
            org_id=org_id,
            member_id=member_id,
            year=year,
            month=month,
            meeting_id=meeting.id if meeting else None,
            reviewed_by=actor.person_id,
            reviewed_at=now,
            **values,
        )
        session.add(review)
        action = "create"
    session.flush()
    record(
        session,
        actor=actor,
        at=now,
        action=action,
        entity="review",
        entity_id=review.id,
        before=before,
        after=snapshot(review, ["member_id", "year", "month", *_REVIEW_FIELDS]),
    )
    if meeting is not None:
        link_meeting(session, org_id=org_id, year=year, month=month, actor=actor, now=now)
    refresh_flag(session, member=member, actor=actor, now=now)
    return True


def set_comment(
    session: Session,
    *,
    org_id: int,
    member_id: int,
    year: int,
    month: int,
    comment: str | None,
    actor: Actor,
    now: datetime,
) -> bool:
    """Add, change or (with None) remove the comment of a recorded review."""
    _member_in_month(session, org_id, member_id, year, month)
    review = session.scalar(
        select(Review).where(
            Review.org_id == org_id,
            Review.member_id == member_id,
            Review.year == year,
            Review.month == month,
        )
    )
    if review is None:
        raise InvalidInput(N_("Choose the member's outcome first, then add a comment."))
    value = rules.short_text(comment, rules.COMMENT_MAX) if comment else None
    if comment and value is None:
        raise InvalidInput(N_("That comment is empty. Nothing was saved."))
    if review.comment == value:
        return False
    before = {"comment": review.comment}
    review.comment = value
    record(
        session,
        actor=actor,
        at=now,
        action="update",
        entity="review",
        entity_id=review.id,
        before=before,
        after={"comment": value},
    )
    return True


def mark_all_progressing(
    session: Session,
    *,
    org_id: int,
    year: int,
    month: int,
    actor: Actor,
    now: datetime,
    today: date,
) -> int:
    """Record "progressing" for every member not yet reviewed this month. Returns how many."""
    rules.check_review_month(year, month, today)
    board = month_board(session, org_id=org_id, year=year, month=month)
    done = 0
    for line in board.pending:
        done += record_review(
            session,
            org_id=org_id,
            member_id=line.member_id,
            year=year,
            month=month,
            outcome=ReviewOutcome.PROGRESSING,
            actor=actor,
            now=now,
            today=today,
        )
    return done


def link_meeting(
    session: Session, *, org_id: int, year: int, month: int, actor: Actor, now: datetime
) -> int:
    """Link the month's reviews saved before its meeting was recorded. Returns how many."""
    meeting = month_meeting(session, org_id, year, month)
    if meeting is None:
        return 0
    reviews = list(
        session.scalars(
            select(Review).where(
                Review.org_id == org_id,
                Review.year == year,
                Review.month == month,
                Review.meeting_id.is_(None),
            )
        )
    )
    for review in reviews:
        review.meeting_id = meeting.id
    if reviews:
        record(
            session,
            actor=actor,
            at=now,
            action="link_meeting",
            entity="review_month",
            entity_id=f"{org_id}:{year}-{month:02d}",
            before={"meeting_id": None},
            after={"meeting_id": meeting.id, "reviews": [r.id for r in reviews]},
        )
    return len(reviews)


# --- Watch list and the 12-month flag ---------------------------------------------------------


@dataclass(frozen=True)
class WatchEntry:
    """A member on the watch list: a new sign, or no change for three months running."""

    member_id: int
    name: str
    org_id: int
    org_code: str
    verdict: rules.WatchVerdict
    since: tuple[int, int]  # first month of the run without progress
    latest: tuple[int, int]  # latest review
    sign_group: SignGroup | None = None  # the latest new sign in the run, if any
    description: str | None = None
    measure: str | None = None


def _runs(
    session: Session, member_ids: Any, as_of: int | None = None
) -> dict[int, tuple[int, int, int]]:
    """Member id → (first, latest, new signs) of the reviews since the last "progressing"."""
    conds: list[ColumnElement[bool]] = [Review.member_id.in_(member_ids)]
    if as_of is not None:
        conds.append(month_idx <= as_of)
    last_progress = (
        select(Review.member_id.label("mid"), func.max(month_idx).label("lp"))
        .where(*conds, Review.outcome.in_(PROGRESS))
        .group_by(Review.member_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Review.member_id,
            func.min(month_idx),
            func.max(month_idx),
            func.sum(case((Review.outcome == ReviewOutcome.NEW_SIGN, 1), else_=0)),
        )
        .outerjoin(last_progress, last_progress.c.mid == Review.member_id)
        .where(*conds, or_(last_progress.c.lp.is_(None), month_idx > last_progress.c.lp))
        .group_by(Review.member_id)
    ).all()
    return {mid: (int(a), int(b), int(n or 0)) for mid, a, b, n in rows}


def watch_list(
    session: Session,
    *,
    cell_ids: list[int],
    as_of: tuple[int, int] | None = None,
    no_progress_months: int | None = None,
) -> list[WatchEntry]:
    """Members of ``cell_ids`` on the watch list (as of a month), by cell and name."""
    if not cell_ids:
        return []
    threshold = no_progress_months or _no_progress_months(session)
    members = select(Member.id).where(Member.org_id.in_(cell_ids), Member.status.in_(ACTIVE))
    as_of_idx = rules.month_index(*as_of) if as_of else None
    runs = _runs(session, members, as_of_idx)
    verdicts = {
        mid: rules.watch_verdict(run_start=a, run_end=b, new_signs=n, no_progress_months=threshold)
        for mid, (a, b, n) in runs.items()
    }
    watched = [mid for mid, v in verdicts.items() if v.on_watch or v.removal_ground]
    if not watched:
        return []
    signs: dict[int, Review] = {}
    sign_stmt = select(Review).where(
        Review.member_id.in_(watched), Review.outcome == ReviewOutcome.NEW_SIGN
    )
    if as_of_idx is not None:
        sign_stmt = sign_stmt.where(month_idx <= as_of_idx)
    for review in session.scalars(sign_stmt.order_by(month_idx)):
        if rules.month_index(review.year, review.month) >= runs[review.member_id][0]:
            signs[review.member_id] = review  # the latest one wins
    rows = session.execute(
        select(Member.id, Member.full_name, Member.name_folded, Organization.id, Organization.code)
        .join(Organization, Organization.id == Member.org_id)
        .where(Member.id.in_(watched))
    ).all()
    out = []
    for mid, name, _folded, org_id, code in sorted(rows, key=lambda r: (r[4], r[2])):
        start, end, _n = runs[mid]
        sign = signs.get(mid)
        out.append(
            WatchEntry(
                member_id=mid,
                name=name,
                org_id=org_id,
                org_code=code,
                verdict=verdicts[mid],
                since=rules.month_of_index(start),
                latest=rules.month_of_index(end),
                sign_group=sign.sign_group if sign else None,
                description=sign.description if sign else None,
                measure=sign.measure if sign else None,
            )
        )
    return out


def refresh_flag(session: Session, *, member: Member, actor: Actor, now: datetime) -> None:
    """Raise or clear the member's "not remedied for 12 months" flag after a review changed."""
    threshold = _no_progress_months(session)
    run = _runs(session, [member.id]).get(member.id)
    verdict = rules.watch_verdict(
        run_start=run[0] if run else None,
        run_end=run[1] if run else None,
        new_signs=run[2] if run else 0,
        no_progress_months=threshold,
    )
    open_flags = list(
        session.scalars(
            select(Flag).where(
                Flag.kind == FLAG_KIND, Flag.member_id == member.id, Flag.cleared_at.is_(None)
            )
        )
    )
    key = f"noprog:{member.id}:{run[0]}" if run else None
    for flag in open_flags:
        if verdict.removal_ground and flag.key == key:
            continue
        flag.cleared_at = now
        record(
            session,
            actor=actor,
            at=now,
            action="clear",
            entity="flag",
            entity_id=flag.id,
            before={"key": flag.key, "cleared_at": None},
            after={"cleared_at": now},
        )
    if not verdict.removal_ground or run is None or key is None:
        return
    existing = session.scalar(select(Flag).where(Flag.key == key))
    if existing is not None:
        if existing.cleared_at is not None:
            existing.cleared_at = None
            record(
                session,
                actor=actor,
                at=now,
                action="raise",
                entity="flag",
                entity_id=existing.id,
                before={"cleared_at": "set"},
                after={"cleared_at": None},
            )
        return
    since_y, since_m = rules.month_of_index(run[0])
    latest_y, latest_m = rules.month_of_index(run[1])
    flag = Flag(
        key=key,
        kind=FLAG_KIND,
        org_id=member.org_id,
        member_id=member.id,
        year=latest_y,
        level=2,
        detail={
            "since": f"{since_y}-{since_m:02d}",
            "latest": f"{latest_y}-{latest_m:02d}",
            "months": verdict.months_without_progress,
            "rule_source": rules.RULE_SOURCE,
        },
        raised_at=now,
    )
    session.add(flag)
    session.flush()
    record(
        session,
        actor=actor,
        at=now,
        action="raise",
        entity="flag",
        entity_id=flag.id,
        after=snapshot(flag, ["key", "kind", "org_id", "member_id", "detail"]),
    )


# --- Aggregates for reports and summaries -----------------------------------------------------


def _span(months: list[tuple[int, int]]) -> tuple[int, int]:
    idx = [rules.month_index(y, m) for y, m in months]
    return min(idx), max(idx)


def _within(lo: int, hi: int) -> tuple[Any, ...]:
    """Reviews of month indexes lo..hi; the year bounds let the (org, year, month) index narrow
    the scan instead of computing the month index of every review on record."""
    return (Review.year >= lo // 12, Review.year <= hi // 12, month_idx >= lo, month_idx <= hi)


def outcome_counts(
    session: Session, *, cell_ids: list[int], months: list[tuple[int, int]]
) -> dict[int, dict[tuple[int, int], dict[ReviewOutcome, int]]]:
    """Cell → (year, month) → outcome → number of members reviewed so."""
    out: dict[int, dict[tuple[int, int], dict[ReviewOutcome, int]]] = {cid: {} for cid in cell_ids}
    if not cell_ids or not months:
        return out
    lo, hi = _span(months)
    rows = session.execute(
        select(Review.org_id, Review.year, Review.month, Review.outcome, func.count(Review.id))
        .where(Review.org_id.in_(cell_ids), *_within(lo, hi))
        .group_by(Review.org_id, Review.year, Review.month, Review.outcome)
    ).all()
    for org_id, year, month, outcome, n in rows:
        out[org_id].setdefault((int(year), int(month)), {})[outcome] = int(n)
    return out


def sign_counts(
    session: Session, *, cell_ids: list[int], months: list[tuple[int, int]]
) -> dict[int, dict[SignGroup, int]]:
    """Cell → group → number of new signs of degradation found in the months."""
    out: dict[int, dict[SignGroup, int]] = {cid: {} for cid in cell_ids}
    if not cell_ids or not months:
        return out
    lo, hi = _span(months)
    rows = session.execute(
        select(Review.org_id, Review.sign_group, func.count(Review.id))
        .where(
            Review.org_id.in_(cell_ids),
            Review.outcome == ReviewOutcome.NEW_SIGN,
            *_within(lo, hi),
        )
        .group_by(Review.org_id, Review.sign_group)
    ).all()
    for org_id, group, n in rows:
        if group is not None:
            out[org_id][group] = int(n)
    return out


def roll_counts(
    session: Session, *, org_id: int, months: list[tuple[int, int]]
) -> dict[tuple[int, int], int]:
    """(year, month) → members the cell had to review that month (see :func:`rules.on_roll`).

    The roll history is not stored month by month; it is rebuilt from each member's admission
    date and the date of their current status, so one small query per cell feeds the rule.
    """
    if not months:
        return {}
    y0, m0 = min(months)
    first, _ = rules.month_bounds(y0, m0)
    rows = session.execute(
        select(
            Member.id,
            Member.status,
            Member.admitted_on,
            Member.ceremony_on,
            Member.status_since,
            MemberPlacement.id,
            MemberPlacement.from_date,
            MemberPlacement.to_date,
        )
        .outerjoin(MemberPlacement, MemberPlacement.member_id == Member.id)
        .where(
            membership.placed_org == org_id,
            or_(Member.status.in_(ACTIVE), Member.status_since >= first),
        )
    ).all()
    history = membership.status_periods(session, {r[0] for r in rows})
    counts = dict.fromkeys(months, 0)
    for mid, status, admitted, ceremony, since, pid, lo, hi in rows:
        joined = rules.joined_on(admitted, ceremony)
        for ym in months:
            # Where and as what the member was on the month's first day
            # (domain.rules.membership).
            if pid is not None and not covers(lo, hi, counting_day(*ym)):
                continue
            then = membership_rules.status_in_month(
                history[mid], *ym, current=status, current_since=since
            )
            counts[ym] += rules.on_roll(rules.facts_in_month(then, joined), *ym)
    return counts


@dataclass(frozen=True)
class SignEntry:
    """A new sign of degradation found in a month, with the measure agreed."""

    member_id: int
    name: str
    year: int
    month: int
    sign_group: SignGroup | None
    description: str | None  # the short note (the typed description before the list)
    measure: str | None
    sign_code: str | None = None  # the sign picked from the list


def new_signs(session: Session, *, org_id: int, months: list[tuple[int, int]]) -> list[SignEntry]:
    """The new signs of degradation a cell found in the months, oldest first."""
    if not months:
        return []
    lo, hi = _span(months)
    rows = session.execute(
        select(Review, Member.full_name)
        .join(Member, Member.id == Review.member_id)
        .where(
            Review.org_id == org_id,
            Review.outcome == ReviewOutcome.NEW_SIGN,
            *_within(lo, hi),
        )
        .order_by(month_idx, Member.name_folded)
    ).all()
    return [
        SignEntry(
            r.member_id,
            name,
            r.year,
            r.month,
            r.sign_group,
            r.description,
            r.measure,
            r.sign_code,
        )
        for r, name in rows
    ]


@dataclass(frozen=True)
class ImprovedEntry:
    """A member reviewed "progressing" right after a review without progress."""

    member_id: int
    name: str
    year: int
    month: int
    before: ReviewOutcome  # the outcome of the review just before


def improvements(
    session: Session, *, org_id: int, months: list[tuple[int, int]]
) -> list[ImprovedEntry]:
    """Members who moved from "no change" or a new sign to "progressing" in the months."""
    if not months:
        return []
    lo, hi = _span(months)
    prev = aliased(Review)
    earlier = aliased(Review)
    prev_idx = (
        select(func.max(earlier.year * 12 + earlier.month - 1))
        .where(
            earlier.member_id == Review.member_id,
            earlier.year * 12 + earlier.month - 1 < month_idx,
        )
        .correlate(Review)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Review.member_id, Member.full_name, Review.year, Review.month, prev.outcome)
        .join(Member, Member.id == Review.member_id)
        .join(
            prev,
            and_(
                prev.member_id == Review.member_id,
                prev.year * 12 + prev.month - 1 == prev_idx,
            ),
        )
        .where(
            Review.org_id == org_id,
            Review.outcome.in_(PROGRESS),
            prev.outcome.not_in(PROGRESS),
            *_within(lo, hi),
        )
        .order_by(month_idx, Member.name_folded)
    ).all()
    return [ImprovedEntry(mid, name, int(y), int(m), before) for mid, name, y, m, before in rows]


# --- Commitments ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommitmentLine:
    """A member and their commitment for the year (None: none recorded)."""

    member_id: int
    name: str
    status: MemberStatus
    signed: bool
    signed_on: date | None
    made_public: bool
    items: tuple[dict[str, str], ...]


@dataclass
class CommitmentBoard:
    """A cell's commitments for one year."""

    org_id: int
    org_name: str
    year: int
    lines: list[CommitmentLine] = field(default_factory=list)

    @property
    def missing(self) -> list[CommitmentLine]:
        """Members still without a commitment."""
        return [line for line in self.lines if not line.signed]

    def line(self, member_id: int) -> CommitmentLine | None:
        """The line of one member."""
        return next((x for x in self.lines if x.member_id == member_id), None)


def commitment_board(session: Session, *, org_id: int, year: int) -> CommitmentBoard:
    """Who in the cell has a commitment for ``year`` (exempt members included)."""
    org = _cell(session, org_id)
    first = date(year, 1, 1)
    commitments = {
        c.member_id: c
        for c in session.scalars(
            select(Commitment)
            .join(Member, Member.id == Commitment.member_id)
            .where(Member.org_id == org_id, Commitment.year == year)
        )
    }
    board = CommitmentBoard(org.id, org.name, year)
    for member in _roll_members(session, org_id, first):
        joined = rules.joined_on(member.admitted_on, member.ceremony_on)
        if joined is not None and joined.year > year:
            continue
        c = commitments.get(member.id)
        board.lines.append(
            CommitmentLine(
                member.id,
                member.full_name,
                member.status,
                c is not None,
                c.signed_on if c else None,
                bool(c and c.made_public),
                tuple(c.items or ()) if c else (),
            )
        )
    return board


_COMMITMENT_FIELDS = ["member_id", "year", "signed_on", "made_public", "items"]


def _commitment(session: Session, member_id: int, year: int) -> Commitment | None:
    return session.scalar(
        select(Commitment).where(Commitment.member_id == member_id, Commitment.year == year)
    )


def record_commitment(
    session: Session,
    *,
    org_id: int,
    member_id: int,
    year: int,
    signed_on: date | None,
    actor: Actor,
    now: datetime,
    today: date,
) -> bool:
    """Record that a member signed their commitment for ``year`` (on ``signed_on``)."""
    member = _member_in_cell(session, org_id, member_id)
    rules.check_commitment(year=year, signed_on=signed_on, facts=facts_of(member), today=today)
    commitment = _commitment(session, member_id, year)
    if commitment is not None:
        if commitment.signed_on == signed_on:
            return False
        before = snapshot(commitment, _COMMITMENT_FIELDS)
        commitment.signed_on = signed_on
        commitment.updated_at = now
        action = "update"
    else:
        before = None
        commitment = Commitment(
            member_id=member_id,
            year=year,
            signed_on=signed_on,
            made_public=False,
            items=[],
            created_at=now,
            updated_at=now,
        )
        session.add(commitment)
        action = "create"
    session.flush()
    record(
        session,
        actor=actor,
        at=now,
        action=action,
        entity="commitment",
        entity_id=commitment.id,
        before=before,
        after=snapshot(commitment, _COMMITMENT_FIELDS),
    )
    return True


def mark_all_signed(
    session: Session,
    *,
    org_id: int,
    year: int,
    signed_on: date,
    actor: Actor,
    now: datetime,
    today: date,
) -> tuple[int, int]:
    """Record a commitment signed on ``signed_on`` for every member still without one.

    Returns (recorded, skipped): members the rules refuse (admitted after that day) are skipped.
    """
    board = commitment_board(session, org_id=org_id, year=year)
    done = skipped = 0
    for line in board.missing:
        try:
            done += record_commitment(
                session,
                org_id=org_id,
                member_id=line.member_id,
                year=year,
                signed_on=signed_on,
                actor=actor,
                now=now,
                today=today,
            )
        except InvalidInput:
            skipped += 1
    return done, skipped


def _update_commitment(
    session: Session,
    *,
    org_id: int,
    member_id: int,
    year: int,
    actor: Actor,
    now: datetime,
    **changes: Any,
) -> bool:
    _member_in_cell(session, org_id, member_id)
    commitment = _commitment(session, member_id, year)
    if commitment is None:
        raise InvalidInput(N_("Record that the member signed the commitment first."))
    if all(getattr(commitment, k) == v for k, v in changes.items()):
        return False
    before = snapshot(commitment, _COMMITMENT_FIELDS)
    for key, value in changes.items():
        setattr(commitment, key, value)
    commitment.updated_at = now
    record(
        session,
        actor=actor,
        at=now,
        action="update",
        entity="commitment",
        entity_id=commitment.id,
        before=before,
        after=snapshot(commitment, _COMMITMENT_FIELDS),
    )
    return True


def set_made_public(
    session: Session,
    *,
    org_id: int,
    member_id: int,
    year: int,
    made_public: bool,
    actor: Actor,
    now: datetime,
) -> bool:
    """Note whether the commitment (of a committee head) was made public."""
    return _update_commitment(
        session,
        org_id=org_id,
        member_id=member_id,
        year=year,
        actor=actor,
        now=now,
        made_public=made_public,
    )


def add_commitment_item(
    session: Session,
    *,
    org_id: int,
    member_id: int,
    year: int,
    sign_group: SignGroup | None,
    text: str | None,
    actor: Actor,
    now: datetime,
) -> bool:
    """Add a shortcoming the member committed to remedy (a repeated item is not added twice)."""
    item = rules.check_item(sign_group, text)
    commitment = _commitment(session, member_id, year)
    items = list(commitment.items or []) if commitment else []
    if item in items:
        return False
    if len(items) >= rules.ITEMS_MAX:
        raise InvalidInput(N_("A commitment keeps at most {n} items here."), n=rules.ITEMS_MAX)
    return _update_commitment(
        session,
        org_id=org_id,
        member_id=member_id,
        year=year,
        actor=actor,
        now=now,
        items=[*items, item],
    )


def clear_commitment_items(
    session: Session,
    *,
    org_id: int,
    member_id: int,
    year: int,
    actor: Actor,
    now: datetime,
) -> bool:
    """Remove every item of a member's commitment."""
    return _update_commitment(
        session, org_id=org_id, member_id=member_id, year=year, actor=actor, now=now, items=[]
    )


def commitment_counts(
    session: Session, *, cell_ids: list[int], year: int
) -> dict[int, tuple[int, int]]:
    """Cell → (members on the roll, members with a commitment for ``year``)."""
    out: dict[int, tuple[int, int]] = {cid: (0, 0) for cid in cell_ids}
    if not cell_ids:
        return out
    rows = session.execute(
        select(Member.org_id, func.count(Member.id), func.count(Commitment.id))
        .outerjoin(Commitment, and_(Commitment.member_id == Member.id, Commitment.year == year))
        .where(Member.org_id.in_(cell_ids), Member.status.in_(ACTIVE))
        .group_by(Member.org_id)
    ).all()
    for org_id, members, signed in rows:
        out[org_id] = (int(members), int(signed))
    return out


def review_progress(
    session: Session, *, cell_ids: list[int], year: int, month: int
) -> dict[int, int]:
    """Cell → members reviewed in the month (for reminders and summaries)."""
    out: dict[int, int] = defaultdict(int)
    if not cell_ids:
        return dict(out)
    rows = session.execute(
        select(Review.org_id, func.count(Review.id))
        .where(Review.org_id.in_(cell_ids), Review.year == year, Review.month == month)
        .group_by(Review.org_id)
    ).all()
    for org_id, n in rows:
        out[org_id] = int(n)
    return {cid: out.get(cid, 0) for cid in cell_ids}


def note_list_read(
    session: Session, *, what: str, cell_ids: list[int], shown: int, actor: Actor, now: datetime
) -> None:
    """Audit that a person read a list of members (the watch list is sensitive personal data)."""
    record(
        session,
        actor=actor,
        at=now,
        action="read",
        entity=what,
        entity_id=None,
        after={"cells": sorted(cell_ids)[:200], "shown": shown},
    )
