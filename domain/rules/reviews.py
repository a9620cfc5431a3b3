"""Commitments, monthly reviews and the remedy reports (DOMAIN.md, "Commitments and monthly
reviews" and "Deadlines").

Pure functions: no Telegram, no SQL. Storage gathers the facts (often as SQL aggregates) and asks
these functions what they mean; every rejection is a :class:`domain.errors.InvalidInput` whose
message is an English msgid, so the handler shows it in the user's language.

Decisions taken here (say so when changing them):

* Who is reviewed: full and probationary members. Exempt members (*miễn sinh hoạt*) keep their
  commitment but are not reviewed monthly (they do not attend the meeting where the review
  happens); boards list them apart.
* Probationary members are party members: they write a commitment like everyone else. A
  commitment cannot be signed before the member was admitted.
* "Without progress" is counted in calendar months, from the first review that was not
  "progressing" after the last one that was, to the latest review. A month without a review does
  not break the run: it shows no progress either.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, timedelta

from domain.errors import InvalidInput
from domain.i18n import N_
from domain.rules.signs import group_of
from domain.text import clean
from domain.vocab import MemberStatus, ReviewOutcome, SignGroup

RULE_SOURCE = "Quy định 4842-QĐ/TU, khoản 3 điều 4"
RULE_SOURCE_REPORTS = "Quy định 4842-QĐ/TU; Kế hoạch 12-KH/ĐUK, mục 2.2"

#: A member "with no change" this many months running is put on the watch list.
NO_CHANGE_WATCH_MONTHS = 3
#: Default of the ``no_progress_months`` setting: educated this long without progress is a
#: ground for removal.
NO_PROGRESS_MONTHS = 12
#: How far back a review may still be recorded or corrected.
REVIEW_LOOKBACK_MONTHS = 24

DESCRIPTION_MAX = 500
COMMENT_MAX = 500
ITEM_MAX = 200
ITEMS_MAX = 12

_HAS_WORD = re.compile(r"\w")
_DAY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def month_index(year: int, month: int) -> int:
    """A month as one integer (consecutive months differ by one); SQL uses the same formula."""
    return year * 12 + month - 1


def month_of_index(index: int) -> tuple[int, int]:
    """Inverse of :func:`month_index`."""
    return index // 12, index % 12 + 1


# --- Who is reviewed ------------------------------------------------------------------------


@dataclass(frozen=True)
class RollFacts:
    """What the rules need to know about a member's place on the cell's roll."""

    status: MemberStatus
    joined_on: date | None  # admission (or ceremony) date; None when unknown (transferred in)
    status_since: date | None  # since when the current status holds


def joined_on(admitted_on: date | None, ceremony_on: date | None) -> date | None:
    """The day a member joined the Party, as far as the records tell."""
    known = [d for d in (admitted_on, ceremony_on) if d is not None]
    return min(known) if known else None


def left_on(facts: RollFacts) -> date | None:
    """The day a transferred or removed member left the roll (None while on the roll)."""
    if facts.status.is_active:
        return None
    return facts.status_since or date.min


def facts_in_month(status_then: MemberStatus, joined_on: date | None) -> RollFacts:
    """A member's roll facts for one month from the status they held on its first day
    (:func:`domain.rules.membership.status_in_month`): that status holds the whole month."""
    return RollFacts(status=status_then, joined_on=joined_on, status_since=None)


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First and last day of a month."""
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


class NotReviewable(enum.StrEnum):
    """Why a member is not reviewed in a month."""

    NOT_YET_MEMBER = "not_yet_member"
    LEFT = "left"
    EXEMPT = "exempt"


NOT_REVIEWABLE_TEXT: dict[NotReviewable, str] = {
    NotReviewable.NOT_YET_MEMBER: N_(
        "This member was not yet a party member in {month}, so there is nothing to review."
    ),
    NotReviewable.LEFT: N_("This member had left the cell's roll before {month}."),
    NotReviewable.EXEMPT: N_(
        "This member is exempt from party work and meetings (miễn sinh hoạt): exempt members "
        "keep their commitment but are not reviewed monthly."
    ),
}


def not_reviewable(facts: RollFacts, year: int, month: int) -> NotReviewable | None:
    """Tell why a member is not reviewed in ``year``/``month`` (None: they are reviewed)."""
    first, last = month_bounds(year, month)
    if facts.joined_on is not None and facts.joined_on > last:
        return NotReviewable.NOT_YET_MEMBER
    gone = left_on(facts)
    if gone is not None and gone < first:
        return NotReviewable.LEFT
    if facts.status is MemberStatus.EXEMPT and (
        facts.status_since is None or facts.status_since <= last
    ):
        return NotReviewable.EXEMPT
    return None


def on_roll(facts: RollFacts, year: int, month: int) -> bool:
    """Whether the member counts among those to review in that month."""
    return not_reviewable(facts, year, month) is None


# --- Review input -----------------------------------------------------------------------------


def check_review_month(year: int, month: int, today: date) -> None:
    """Refuse a review of a month that has not started, or of a month too old to correct."""
    if not 1 <= month <= 12:
        raise InvalidInput(N_("There is no month {month}."), month=month)
    asked, now = month_index(year, month), month_index(today.year, today.month)
    if asked > now:
        raise InvalidInput(
            N_(
                "{month} has not started yet: a review can only be recorded in or after its month."
            ),
            month=f"{month:02d}/{year}",
        )
    if now - asked > REVIEW_LOOKBACK_MONTHS:
        raise InvalidInput(
            N_("{month} is too long ago to record or correct a review."),
            month=f"{month:02d}/{year}",
        )


def short_text(text: str | None, limit: int) -> str | None:
    """Clean a typed text; None when it says nothing (no letter or digit). Longer than
    ``limit`` is refused with the limit, never cut."""
    if text is None:
        return None
    value = clean(text)
    if not _HAS_WORD.search(value):
        return None
    if len(value) > limit:
        raise InvalidInput(N_("That is too long: keep it under {limit} characters."), limit=limit)
    return value


def check_description(text: str | None) -> str:
    """A new sign of degradation must be described in a few words."""
    value = short_text(text, DESCRIPTION_MAX)
    if value is None:
        raise InvalidInput(N_("Please describe the sign of degradation in a few words."))
    if len(value) > DESCRIPTION_MAX:
        raise InvalidInput(
            N_("That is too long: keep it under {limit} characters."), limit=DESCRIPTION_MAX
        )
    return value


def check_measure(text: str | None) -> str:
    """A new sign of degradation is reported to the cell with the measure agreed."""
    value = short_text(text, DESCRIPTION_MAX)
    if value is None:
        raise InvalidInput(N_("Please write the measure the cell agreed, in a few words."))
    if len(value) > DESCRIPTION_MAX:
        raise InvalidInput(
            N_("That is too long: keep it under {limit} characters."), limit=DESCRIPTION_MAX
        )
    return value


@dataclass(frozen=True)
class ReviewInput:
    """A checked review: the outcome and, for a new sign, its sign, group, note and measure."""

    outcome: ReviewOutcome
    sign_group: SignGroup | None
    description: str | None  # for a new sign: a short optional note (typed before the list)
    measure: str | None
    sign_code: str | None = None


def check_note(text: str | None) -> str | None:
    """The optional short note on a new sign: None when empty."""
    value = short_text(text, DESCRIPTION_MAX + 1)
    if value is not None and len(value) > DESCRIPTION_MAX:
        raise InvalidInput(
            N_("That is too long: keep it under {limit} characters."), limit=DESCRIPTION_MAX
        )
    return value


def check_review(
    outcome: ReviewOutcome,
    *,
    sign_group: SignGroup | None = None,
    description: str | None = None,
    measure: str | None = None,
    sign_code: str | None = None,
) -> ReviewInput:
    """Validate a review; details are kept only for a new sign of degradation.

    A new sign is picked from the 27 signs (``sign_code``, its group follows) with the measure
    agreed and an optional short note; without a code (an older client) its group and a typed
    description are required.
    """
    if outcome is not ReviewOutcome.NEW_SIGN:
        return ReviewInput(outcome, None, None, None)
    if sign_code is not None:
        try:
            group = group_of(sign_code)
        except ValueError as exc:
            raise InvalidInput(N_("Please choose the sign of degradation from the list.")) from exc
        note, measure_ = check_note(description), check_measure(measure)
        return ReviewInput(outcome, group, note, measure_, sign_code)
    if sign_group is None:
        raise InvalidInput(N_("Please choose the group of the sign of degradation."))
    return ReviewInput(outcome, sign_group, check_description(description), check_measure(measure))


# --- Watch list and the 12-month ground for removal ------------------------------------------


@dataclass(frozen=True)
class WatchVerdict:
    """What the reviews since the last "progressing" one say about a member."""

    on_watch: bool
    new_sign: bool  # a new sign of degradation since the last "progressing"
    months_without_progress: int
    removal_ground: bool  # not remedied for ``no_progress_months`` months running


def watch_verdict(
    *,
    run_start: int | None,
    run_end: int | None,
    new_signs: int,
    no_progress_months: int = NO_PROGRESS_MONTHS,
    no_change_months: int = NO_CHANGE_WATCH_MONTHS,
) -> WatchVerdict:
    """Judge a member from the run of reviews without progress since the last "progressing".

    ``run_start``/``run_end`` are the :func:`month_index` of the first and latest review of that
    run (None when the latest review was "progressing" or there is none); ``new_signs`` counts
    the new signs of degradation in it. A member stays on the watch list until a later review
    says "progressing".
    """
    if run_start is None or run_end is None:
        return WatchVerdict(False, False, 0, False)
    months = run_end - run_start + 1
    new_sign = new_signs > 0
    return WatchVerdict(
        on_watch=new_sign or months >= no_change_months,
        new_sign=new_sign,
        months_without_progress=months,
        removal_ground=months >= no_progress_months,
    )


def verdict_of_history(
    history: list[tuple[int, int, ReviewOutcome]],
    *,
    no_progress_months: int = NO_PROGRESS_MONTHS,
) -> WatchVerdict:
    """:func:`watch_verdict` from a member's reviews ``(year, month, outcome)`` in any order.

    Storage computes the run with SQL aggregates; this is the same rule for a short history.
    """
    run: list[tuple[int, ReviewOutcome]] = []
    for year, month, outcome in sorted(history):
        if outcome.shows_progress:
            run = []
        else:
            run.append((month_index(year, month), outcome))
    return watch_verdict(
        run_start=run[0][0] if run else None,
        run_end=run[-1][0] if run else None,
        new_signs=sum(o is ReviewOutcome.NEW_SIGN for _, o in run),
        no_progress_months=no_progress_months,
    )


# --- Commitments ------------------------------------------------------------------------------


def check_commitment(*, year: int, signed_on: date | None, facts: RollFacts, today: date) -> None:
    """Refuse a commitment the member could not have signed.

    A commitment for year Y may be signed from 1 January of Y-1 (members often sign the next
    year's commitment in December) and never in the future; the member must have been on the
    roll in that year and a party member on the day they signed. Probationary members sign
    like everyone else.
    """
    if year > today.year + 1:
        raise InvalidInput(N_("A commitment for {year} cannot be recorded yet."), year=year)
    first, last = date(year, 1, 1), date(year, 12, 31)
    if facts.joined_on is not None and facts.joined_on > last:
        raise InvalidInput(
            N_("This member was admitted on {date}, after the year {year}."),
            date=_dmy(facts.joined_on),
            year=year,
        )
    gone = left_on(facts)
    if gone is not None and gone < first:
        raise InvalidInput(N_("This member had left the cell's roll before {year}."), year=year)
    if signed_on is None:
        return
    if signed_on > today:
        raise InvalidInput(N_("The signing date {date} is in the future."), date=_dmy(signed_on))
    if signed_on.year not in (year - 1, year):
        raise InvalidInput(
            N_("A commitment for {year} is signed in {year} or in December before it."),
            year=year,
        )
    if facts.joined_on is not None and signed_on < facts.joined_on:
        raise InvalidInput(
            N_("The signing date {date} is before the member's admission on {admitted}."),
            date=_dmy(signed_on),
            admitted=_dmy(facts.joined_on),
        )


def check_item(group: SignGroup | None, text: str | None) -> dict[str, str]:
    """A commitment item: a group of manifestations, and/or a short typed shortcoming."""
    value = short_text(text, ITEM_MAX) if text else None
    if value is not None and len(value) > ITEM_MAX:
        raise InvalidInput(
            N_("That is too long: keep it under {limit} characters."), limit=ITEM_MAX
        )
    if group is None and value is None:
        raise InvalidInput(N_("Please name the shortcoming in a few words."))
    item: dict[str, str] = {}
    if group is not None:
        item["group"] = group.value
    if value is not None:
        item["text"] = value
    return item


def parse_day(text: str, today: date) -> date:
    """Read a typed date (15/11/2026, 15-11-2026 or 15.11.2026); refuse future dates."""
    m = _DAY.match(clean(text))
    if not m:
        raise InvalidInput(N_("Please type the date as day/month/year, for example 05/01/2026."))
    try:
        value = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError as exc:
        raise InvalidInput(N_("There is no such date: {text}."), text=clean(text)[:20]) from exc
    if value > today:
        raise InvalidInput(N_("The signing date {date} is in the future."), date=_dmy(value))
    return value


def _dmy(value: date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


# --- Remedy reports: due dates and windows ----------------------------------------------------


class ReportState(enum.StrEnum):
    """Where a cell stands with a report for a period."""

    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    NOT_DUE = "not_due"


def report_state(submitted_on: date | None, due_on: date, today: date) -> ReportState:
    """On time when submitted by the due date (inclusive), late after it; unsubmitted reports
    are missing once the due date has passed, otherwise not due yet."""
    if submitted_on is not None:
        return ReportState.ON_TIME if submitted_on <= due_on else ReportState.LATE
    return ReportState.MISSING if today > due_on else ReportState.NOT_DUE


def quarterly_due(year: int, quarter: int, day: int = 20) -> date:
    """Day ``day`` of the quarter's last month: 20/3, 20/6, 20/9, 20/12 by default."""
    return date(year, 3 * quarter, day)


def annual_due(year: int, month: int = 11, day: int = 15) -> date:
    """The annual report's due date: 15 November by default."""
    return date(year, month, day)


def quarterly_window(year: int, quarter: int, due: date) -> tuple[date, date]:
    """A quarterly report covers its calendar quarter up to the due date."""
    return date(year, 3 * quarter - 2, 1), due


def annual_window(due: date) -> tuple[date, date]:
    """The annual report covers the 12 months ending on the due date."""
    try:
        year_before = due.replace(year=due.year - 1)
    except ValueError:  # 29 February
        year_before = due.replace(year=due.year - 1, day=28)
    return year_before + timedelta(days=1), due


def months_in_window(start: date, end: date) -> list[tuple[int, int]]:
    """The review months a report window covers: the months whose first day falls in it.

    Quarter 4 up to 20/12 covers October, November and December; the 12 months ending on
    15/11/2026 cover December 2025 to November 2026.
    """
    out = []
    y, m = (
        (start.year, start.month)
        if start.day == 1
        else month_of_index(month_index(start.year, start.month) + 1)
    )
    while date(y, m, 1) <= end:
        out.append((y, m))
        y, m = month_of_index(month_index(y, m) + 1)
    return out
