"""Calendar rules: due dates, working days, reminder slots, quiet hours (DOMAIN.md, "Deadlines").

Pure functions over dates and numbers: no Telegram, no SQL. The catalog (:mod:`domain.calendar`)
turns a TOML file into the :class:`DueRule` and :class:`ReminderPlan` values used here; every
rule there names its ``rule_source``, and the rules of this module name theirs below.

Vocabulary:

* a **working day** (for "within 30 working days") is not a weekend day (Saturday and Sunday by
  default) and not a public holiday;
* a **sending day** (for reminders) is not a "no reminders" weekday (Sunday by default) and not
  a public holiday; a reminder that falls on another day moves to the next sending morning;
* **quiet hours** (21:00–07:00 by default) are never used for reminders;
* a reminder **slot** is a date on which one reminder of one obligation instance is due.
"""

from __future__ import annotations

import calendar as _calendar
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.rules.holidays import HolidayRules, public_holidays

#: Why Saturday and Sunday are not working days (state agencies' 40-hour week).
RULE_SOURCE_WEEKEND = "Quyết định 188/1999/QĐ-TTg (chế độ tuần làm việc 40 giờ)"
#: Where the public holidays come from.
RULE_SOURCE_HOLIDAYS = "Bộ luật Lao động 2019, Điều 112; thông báo nghỉ lễ, Tết hằng năm"
#: Where a deadline that falls on a day off may be carried to the next working day.
RULE_SOURCE_ROLL = "Bộ luật Dân sự 2015, Điều 148 khoản 5"
#: The default reminder plan (7, 3, 1 days before, on the day, every 2 days overdue, 08:00).
RULE_SOURCE_PLAN = "Kế hoạch 12-KH/ĐUK; quy chế nhắc việc mặc định của chibo (issue 5)"

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

EVERY_KINDS = (
    "month",
    "quarter",
    "half_year",
    "year",
    "probation_end",
    "candidate_decision",
    "candidate_ceremony",
)
#: Per-file deadlines of the admission pipeline (working days after a dated step).
CANDIDATE_KINDS = ("candidate_decision", "candidate_ceremony")
ROLL_KINDS = ("keep", "next_working_day", "previous_working_day")


class RuleError(ValueError):
    """A due-date rule that cannot produce a date (a bad catalog entry)."""


# --- Working days ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkCalendar:
    """Public holidays, the Government's yearly decisions and the weekly days off.

    Attributes:
        holidays: Days off given by a decision (an extra day off), any year; with ``rules``
            unset, the whole list of public holidays (the days a file lists).
        weekend: Weekdays (0 = Monday) that are not working days.
        no_reminders_on: Weekdays on which no reminder is sent (Sunday by default).
        working_days: Days worked by a decision although a weekend day or a holiday (a Saturday
            worked in exchange for a bridge day off: 10/01/2026).
        rules: The law's holidays computed for every year (Bộ luật Lao động 2019, Điều 112);
            None: only ``holidays``.
    """

    holidays: frozenset[date] = frozenset()
    weekend: frozenset[int] = frozenset({5, 6})
    no_reminders_on: frozenset[int] = frozenset({6})
    working_days: frozenset[date] = frozenset()
    rules: HolidayRules | None = None

    def is_holiday(self, day: date) -> bool:
        """Tell whether ``day`` is a public holiday or a decided day off (not one worked)."""
        if day in self.working_days:
            return False
        if day in self.holidays:
            return True
        return self.rules is not None and day in public_holidays(day.year, self.rules)

    def holiday_name(self, day: date) -> str | None:
        """The law's name of a computed holiday (None if it is not one)."""
        if self.rules is None or day in self.working_days:
            return None
        return public_holidays(day.year, self.rules).get(day)

    def is_working_day(self, day: date) -> bool:
        """A working day: a decided working day, or not a weekend day and not a holiday."""
        if day in self.working_days:
            return True
        return day.weekday() not in self.weekend and not self.is_holiday(day)

    def is_sending_day(self, day: date) -> bool:
        """A day on which reminders may be sent (not Sunday, not a holiday by default)."""
        if day in self.working_days:
            return True
        return day.weekday() not in self.no_reminders_on and not self.is_holiday(day)

    def next_sending_day(self, day: date) -> date:
        """``day`` if reminders may be sent on it, else the next such day."""
        for _ in range(400):
            if self.is_sending_day(day):
                return day
            day += timedelta(days=1)
        raise RuleError("no day in a year on which reminders may be sent")

    def next_working_day(self, day: date) -> date:
        """``day`` if it is a working day, else the next working day."""
        for _ in range(400):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise RuleError("no working day in a year")

    def previous_working_day(self, day: date) -> date:
        """``day`` if it is a working day, else the working day before it."""
        for _ in range(400):
            if self.is_working_day(day):
                return day
            day -= timedelta(days=1)
        raise RuleError("no working day in a year")

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (``day`` itself not counted).

        "Within 30 working days after 12 months of probation" ends on
        ``add_working_days(probation_end, 30)``.
        """
        if n < 0:
            raise RuleError("cannot add a negative number of working days")
        count = 0
        while count < n:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end ≤ start)."""
        n, day = 0, start
        while day < end:
            day += timedelta(days=1)
            n += self.is_working_day(day)
        return n


def weekdays(names: Iterable[str]) -> frozenset[int]:
    """Turn ``["sat", "sun"]`` into ``{5, 6}``; raise :class:`RuleError` on an unknown name."""
    out = set()
    for name in names:
        key = str(name).strip().lower()[:3]
        if key not in WEEKDAY_NAMES:
            raise RuleError(f"unknown weekday {name!r} (use mon, tue, wed, thu, fri, sat, sun)")
        out.add(WEEKDAY_NAMES.index(key))
    return frozenset(out)


# --- Due dates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueRule:
    """When an obligation falls due.

    Attributes:
        every: ``month``, ``quarter``, ``half_year``, ``year`` or ``probation_end`` (per member).
        day: Day of the month (1–31), or ``"last"``, or ``"usual"`` (the cell's usual meeting
            day, the last day when the cell has none).
        month: For ``year``: the month (1–12). For ``quarter``: the month within the quarter
            (1–3). For ``half_year``: the month within the half (1–6). Unused for ``month``.
        working_days: For ``probation_end``: the working days allowed after the end date.
        roll: What happens when the date is not a working day: ``keep`` it (default),
            ``next_working_day`` (Civil Code art. 148.5) or ``previous_working_day``.
    """

    every: str
    day: int | str = "last"
    month: int | None = None
    working_days: int = 0
    roll: str = "keep"

    @property
    def per_member(self) -> bool:
        """Whether instances are per member or candidate's file rather than per period."""
        return self.every == "probation_end" or self.every in CANDIDATE_KINDS

    @property
    def per_cell_day(self) -> bool:
        """Whether the date depends on the organization (its usual meeting day)."""
        return self.day == "usual"


def due_rule_from(raw: Mapping[str, Any], default_roll: str = "keep") -> DueRule:
    """The :class:`DueRule` of a catalog entry (``every``, ``day``, ``month``, ``working_days``,
    ``if_day_off``); ``default_roll`` applies when the entry does not say (the calendar's
    ``if_day_off``, by default the next working day: :data:`RULE_SOURCE_ROLL`)."""
    return DueRule(
        every=str(raw.get("every", "")),
        day=raw.get("day", "last"),
        month=raw.get("month"),
        working_days=raw.get("working_days", 0) or 0,
        roll=str(raw.get("if_day_off") or default_roll),
    )


@dataclass(frozen=True, order=True)
class PeriodRef:
    """One period of a recurring obligation.

    Attributes:
        kind: ``month``, ``quarter``, ``half_year`` or ``year``.
        year: The year.
        index: Month 1–12, quarter 1–4, half 1–2, or 1 for a year.
    """

    kind: str
    year: int
    index: int = 1

    @property
    def key(self) -> str:
        """Stable text form: ``2026-11``, ``2026-Q4``, ``2026-H2``, ``2026``."""
        if self.kind == "month":
            return f"{self.year}-{self.index:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.index}"
        if self.kind == "half_year":
            return f"{self.year}-H{self.index}"
        return str(self.year)

    @property
    def first_month(self) -> int:
        """The first calendar month of the period."""
        size = _MONTHS_IN[self.kind]
        return (self.index - 1) * size + 1

    @property
    def start(self) -> date:
        """First day of the period."""
        return date(self.year, self.first_month, 1)

    @property
    def end(self) -> date:
        """Last day of the period (inclusive)."""
        last_month = self.first_month + _MONTHS_IN[self.kind] - 1
        return date(self.year, last_month, month_length(self.year, last_month))

    def next(self) -> PeriodRef:
        """The following period of the same kind."""
        count = 12 // _MONTHS_IN[self.kind]
        if self.index < count:
            return PeriodRef(self.kind, self.year, self.index + 1)
        return PeriodRef(self.kind, self.year + 1, 1)


_MONTHS_IN = {"month": 1, "quarter": 3, "half_year": 6, "year": 12}


def parse_period_key(key: str) -> PeriodRef:
    """Inverse of :attr:`PeriodRef.key`; raise :class:`RuleError` on anything else."""
    try:
        if "-Q" in key:
            year, idx = key.split("-Q")
            return PeriodRef("quarter", int(year), int(idx))
        if "-H" in key:
            year, idx = key.split("-H")
            return PeriodRef("half_year", int(year), int(idx))
        if "-" in key:
            year, idx = key.split("-")
            return PeriodRef("month", int(year), int(idx))
        return PeriodRef("year", int(key))
    except ValueError as exc:
        raise RuleError(f"not a period key: {key!r}") from exc


def month_length(year: int, month: int) -> int:
    """Days in a month (29 for February 2028)."""
    return _calendar.monthrange(year, month)[1]


def period_of(kind: str, day: date) -> PeriodRef:
    """The period of ``kind`` that contains ``day``."""
    size = _MONTHS_IN[kind]
    return PeriodRef(kind, day.year, (day.month - 1) // size + 1)


def nominal_due(rule: DueRule, period: PeriodRef, usual_day: int | None = None) -> date:
    """The due date the rule gives for ``period``, before any roll to a working day.

    Raises:
        RuleError: The rule names a day the month does not have (31 June, 29 February 2027).
    """
    size = _MONTHS_IN[period.kind]
    offset = rule.month if rule.month is not None else size  # default: the period's last month
    if not 1 <= offset <= size:
        raise RuleError(f"month {offset} is outside a {period.kind.replace('_', ' ')}")
    month = period.first_month + offset - 1
    length = month_length(period.year, month)
    if rule.day == "last":
        return date(period.year, month, length)
    if rule.day == "usual":
        # The cell's own usual day; a day the month lacks (30 in February) means its last day.
        if usual_day is None:
            return date(period.year, month, length)
        return date(period.year, month, min(max(int(usual_day), 1), length))
    if not isinstance(rule.day, int) or isinstance(rule.day, bool):
        raise RuleError(f'day must be a number, "last" or "usual", not {rule.day!r}')
    if not 1 <= rule.day <= length:
        raise RuleError(
            f"day {rule.day} does not exist in {_calendar.month_name[month]} {period.year}; "
            'use day = "last" for the end of the month'
        )
    return date(period.year, month, rule.day)


def roll(day: date, how: str, cal: WorkCalendar) -> date:
    """Move a due date that is not a working day, as the rule's ``roll`` says."""
    if how == "keep":
        return day
    if how == "next_working_day":
        return cal.next_working_day(day)
    if how == "previous_working_day":
        return cal.previous_working_day(day)
    raise RuleError(f"unknown roll {how!r} (use {', '.join(ROLL_KINDS)})")


def due_date(
    rule: DueRule, period: PeriodRef, cal: WorkCalendar, usual_day: int | None = None
) -> date:
    """The due date of ``period`` under ``rule``, rolled as the rule says."""
    return roll(nominal_due(rule, period, usual_day), rule.roll, cal)


def probation_due(probation_end: date, rule: DueRule, cal: WorkCalendar) -> date:
    """Last day for the cell to consider full membership: N working days after probation ends.

    Source: Party Statute (Điều lệ Đảng, Điều 5) and its implementing regulations.
    """
    return cal.add_working_days(probation_end, rule.working_days)


def periods_due_between(
    rule: DueRule,
    start: date,
    end: date,
    cal: WorkCalendar,
    usual_day: int | None = None,
) -> list[tuple[PeriodRef, date]]:
    """Every (period, due date) of a recurring rule with ``start ≤ due ≤ end``, in order."""
    if rule.per_member:
        raise RuleError("per-member rules have no periods")
    kind = rule.every
    # A rolled due date can leave its period by a few days; look one period either side.
    period = period_of(kind, start - timedelta(days=40))
    out: list[tuple[PeriodRef, date]] = []
    while period.start <= end + timedelta(days=40):
        due = due_date(rule, period, cal, usual_day)
        if start <= due <= end:
            out.append((period, due))
        period = period.next()
    return out


def validate_rule(rule: DueRule, years: Iterable[int] = range(2024, 2031)) -> None:
    """Compute every due date of ``years`` (a leap year included); raise :class:`RuleError`."""
    if rule.every not in EVERY_KINDS:
        raise RuleError(f"every = {rule.every!r} is not one of {', '.join(EVERY_KINDS)}")
    if rule.roll not in ROLL_KINDS:
        raise RuleError(f"roll = {rule.roll!r} is not one of {', '.join(ROLL_KINDS)}")
    if rule.per_member:
        if rule.working_days < 1:
            raise RuleError("probation_end needs working_days ≥ 1")
        return
    if rule.every == "month" and rule.month not in (None, 1):
        raise RuleError("a monthly rule takes no month")
    for year in years:
        period = PeriodRef(rule.every, year, 1)
        while period.year == year:
            nominal_due(rule, period, usual_day=31)
            period = period.next()


# --- Periods in progress ------------------------------------------------------------------------

#: A period still running is "not yet due", never "missing" (DOMAIN.md, "Deadlines").
RULE_SOURCE_IN_PROGRESS = (
    "Kế hoạch 12-KH/ĐUK (sinh hoạt, nhận xét hằng tháng): kỳ chưa kết thúc là chưa đến hạn"
)


class Standing(enum.StrEnum):
    """Where an obligation of one period stands on a given day."""

    DONE = "done"
    IN_PROGRESS = "in_progress"  # chưa đến hạn: the period (or its grace) is not over
    MISSING = "missing"


def missing_from(period_end: date, due: date | None = None, grace_days: int | None = None) -> date:
    """The first day an obligation of a period that is still undone counts as missing.

    The day after the period ends (a regular meeting may be held up to the last day of its
    month); when the calendar sets a grace rule (``grace_days`` after the due date, e.g. the
    cell's usual meeting day plus 5 days), the day after that if it comes earlier.
    Source: :data:`RULE_SOURCE_IN_PROGRESS`.
    """
    limit = period_end
    if due is not None and grace_days is not None:
        limit = min(limit, due + timedelta(days=grace_days))
    return limit + timedelta(days=1)


def period_standing(
    done: bool,
    period_end: date,
    today: date,
    due: date | None = None,
    grace_days: int | None = None,
) -> Standing:
    """Done; in progress (chưa đến hạn) until :func:`missing_from`; missing from then on.

    On 10/05 an unheld May meeting is in progress; on 01/06 it is missing.
    """
    if done:
        return Standing.DONE
    if today >= missing_from(period_end, due, grace_days):
        return Standing.MISSING
    return Standing.IN_PROGRESS


# --- Reminder plan and slots -------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderPlan:
    """When reminders of one obligation are sent (all configurable).

    Attributes:
        days_before: Reminders this many days before the due date.
        on_the_day: A reminder on the due date.
        overdue_every_days: Then one every N days while it is overdue (0: none).
        overdue_for_days: For at most this many days after the due date.
        hour: Local hour of the reminders (a person may choose another).
        quiet_start: Quiet hours begin (no reminder at or after this hour)…
        quiet_end: …and end (no reminder before this hour).
    """

    days_before: tuple[int, ...] = (7, 3, 1)
    on_the_day: bool = True
    overdue_every_days: int = 2
    overdue_for_days: int = 30
    hour: int = 8
    quiet_start: int = 21
    quiet_end: int = 7
    rule_source: str = RULE_SOURCE_PLAN

    @property
    def horizon_days(self) -> int:
        """How far ahead of a due date the first reminder comes."""
        return max(self.days_before, default=0)


def plan_slots(due: date, plan: ReminderPlan) -> list[date]:
    """The nominal reminder dates of one instance (before moving off Sundays and holidays)."""
    days = [due - timedelta(days=n) for n in plan.days_before if n > 0]
    if plan.on_the_day:
        days.append(due)
    if plan.overdue_every_days > 0:
        step = plan.overdue_every_days
        days.extend(due + timedelta(days=n) for n in range(step, plan.overdue_for_days + 1, step))
    return sorted(set(days))


def reminder_slots(
    due: date, plan: ReminderPlan, cal: WorkCalendar, extra: Iterable[date] = ()
) -> list[date]:
    """The dates reminders are sent: plan slots moved to the next sending day, deduplicated.

    ``extra`` adds dates (a "remind me tomorrow" snooze). A slot on Sunday or a holiday moves to
    the next sending morning; when that lands on another slot's day, they are one reminder.
    """
    days = {cal.next_sending_day(d) for d in plan_slots(due, plan)}
    days.update(cal.next_sending_day(d) for d in extra)
    return sorted(days)


def in_quiet_hours(moment: time | datetime, plan: ReminderPlan) -> bool:
    """Tell whether a local time of day falls in the quiet hours (21:00–07:00 by default)."""
    hour = moment.hour
    if plan.quiet_start == plan.quiet_end:
        return False
    if plan.quiet_start > plan.quiet_end:  # wraps midnight
        return hour >= plan.quiet_start or hour < plan.quiet_end
    return plan.quiet_start <= hour < plan.quiet_end


def sending_hour(hour: int | None, plan: ReminderPlan) -> int:
    """The hour a person's reminders go out: their choice or the plan's, kept out of quiet hours.

    A choice before the end of the quiet hours waits for it (06:00 → 07:00); a choice at or
    after their start is brought back to the last hour before them.
    """
    h = plan.hour if hour is None else int(hour)
    h = min(max(h, 0), 23)
    if not in_quiet_hours(time(h), plan):
        return h
    if plan.quiet_start > plan.quiet_end:
        return plan.quiet_end if h < plan.quiet_end else max(plan.quiet_start - 1, 0)
    return plan.quiet_end % 24


def slot_time(day: date, hour: int, tz: ZoneInfo) -> datetime:
    """The aware local moment of a slot."""
    return datetime.combine(day, time(hour), tzinfo=tz)


def may_send_now(now_local: datetime, cal: WorkCalendar, plan: ReminderPlan) -> bool:
    """Reminders go out only on a sending day and outside the quiet hours."""
    return cal.is_sending_day(now_local.date()) and not in_quiet_hours(now_local, plan)


def current_slot(
    slots: list[date], now_local: datetime, hour: int, plan: ReminderPlan
) -> date | None:
    """The newest slot already reached at ``now_local``, if it still deserves a reminder.

    After downtime or a clock jump only this newest missed slot is sent, never the older ones.
    The last slot of an instance expires ``overdue_every_days`` (at least 1) days after it: a
    bot that was down past the end of the plan does not wake up to stale reminders.
    """
    today = now_local.date()
    reached = [d for d in slots if d < today or (d == today and now_local.hour >= hour)]
    if not reached:
        return None
    newest = reached[-1]
    if newest == slots[-1] and (today - newest).days > max(plan.overdue_every_days, 1):
        return None
    return newest


@dataclass(frozen=True)
class DueState:
    """Where an instance stands on a given day."""

    state: str  # "upcoming" | "today" | "overdue"
    days: int  # days until due (upcoming) or since due (overdue); 0 today


def due_state(due: date, today: date) -> DueState:
    """Upcoming in N days, due today, or overdue by N days."""
    delta = (due - today).days
    if delta > 0:
        return DueState("upcoming", delta)
    if delta == 0:
        return DueState("today", 0)
    return DueState("overdue", -delta)


# --- Leaders' digest ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestRule:
    """When leaders get the digest of late cells.

    Attributes:
        weekday: The weekly digest day (0 = Monday).
        after_deadlines: Also the morning after each deadline (when something became late).
        hour: Local hour.
    """

    weekday: int = 0
    after_deadlines: bool = True
    hour: int = 8
    roles: tuple[str, ...] = field(
        default=("standing", "inspection", "organization", "propaganda", "admin")
    )


def is_digest_day(
    today: date, due_dates: Iterable[date], cal: WorkCalendar, rule: DigestRule
) -> bool:
    """Monday (moved off a holiday), or the first sending morning after a due date.

    ``due_dates`` are the due dates of instances still open (late) today.
    """
    if not cal.is_sending_day(today):
        return False
    # The weekly day, or the first sending day after it when it is a holiday.
    last_weekly = today - timedelta(days=(today.weekday() - rule.weekday) % 7)
    if cal.next_sending_day(last_weekly) == today:
        return True
    if rule.after_deadlines:
        return any(cal.next_sending_day(d + timedelta(days=1)) == today for d in due_dates)
    return False
