"""One source of truth for due dates: the catalog and the working calendar in force."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy.orm import Session

from domain.calendar import DATA
from domain.rules.deadlines import (
    DueRule,
    PeriodRef,
    WorkCalendar,
    due_date,
    due_rule_from,
    weekdays,
)
from domain.rules.holidays import (
    Decision,
    HolidayDecisions,
    added_value,
    parse_holiday_data,
    rules_from,
)
from storage.models import Setting
from storage.obligations.catalog import (
    CALENDAR_SETTING,
    HOLIDAY_RULES_SETTING,
    catalog_rows,
    holiday_decisions,
)


@cache
def _shipped_toml(name: str) -> dict[str, Any]:
    return tomllib.loads((DATA / name).read_text(encoding="utf-8"))


def shipped_holidays() -> HolidayDecisions:
    """The shipped decisions and layout rules (``domain/data/holidays.toml``)."""
    return parse_holiday_data(_shipped_toml("holidays.toml"))


def _calendar_head(session: Session) -> dict[str, Any]:
    setting = session.get(Setting, CALENDAR_SETTING)
    if setting is not None and isinstance(setting.value, dict):
        return dict(setting.value)
    return dict(_shipped_toml("calendar.toml").get("calendar", {}))


def meeting_grace_days(session: Session) -> int | None:
    """The calendar's grace rule for what is done in the month (a meeting, the reviews): an
    undone one counts as missing this many days after the cell's usual day (``[calendar]
    meeting_grace_days``); None (the default): only once the month is over."""
    value = _calendar_head(session).get("meeting_grace_days")
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def decisions_in_force(session: Session) -> list[Decision]:
    """The Government's decisions in force: the loaded ones, else the shipped file's."""
    decisions = holiday_decisions(session)
    if not decisions and session.get(Setting, HOLIDAY_RULES_SETTING) is None:
        decisions = list(shipped_holidays().decisions)
    return decisions


def work_calendar(
    session: Session,
    *,
    weekend: frozenset[int] | None = None,
    no_reminders_on: frozenset[int] | None = None,
) -> WorkCalendar:
    """Working days in force: the law's holidays of every year, plus the stored decisions.

    Until holidays are loaded into the database, the shipped file's decisions and rules apply.
    The weekend defaults to the calendar in force (Saturday and Sunday).
    """
    head = _calendar_head(session)
    if weekend is None:
        weekend = weekdays(head.get("weekend", ["sat", "sun"]))
    if no_reminders_on is None:
        no_reminders_on = weekdays(head.get("no_reminders_on", ["sun"]))
    decisions = decisions_in_force(session)
    setting = session.get(Setting, HOLIDAY_RULES_SETTING)
    if setting is not None and isinstance(setting.value, dict):
        rules_value = dict(setting.value)
    else:
        shipped = shipped_holidays()
        rules_value = {**(shipped.rules or {}), "added": added_value(shipped.added or ())}
    return WorkCalendar(
        holidays=frozenset(d.day for d in decisions if d.kind == "day_off"),
        weekend=weekend,
        no_reminders_on=no_reminders_on,
        working_days=frozenset(d.day for d in decisions if d.kind == "working_day"),
        rules=rules_from(rules_value, weekend),
    )


@dataclass(frozen=True)
class DueEntry:
    """What the catalog in force says of one obligation's due date."""

    code: str
    rule: DueRule
    rule_source: str
    report_kind: str | None
    owed_by: tuple[str, ...]
    discharged_by: str = ""
    title_vi: str = ""
    title_en: str = ""


def due_entries(session: Session) -> dict[str, DueEntry]:
    """Obligation code → its due-date rule, from the catalog in force (loaded, else shipped).

    The catalog's ``[calendar] if_day_off`` is the default for obligations that do not say.
    """
    rows, stored = catalog_rows(session)
    if rows and stored is not None:
        head = dict(stored)
        raw = [{**r.spec, "code": r.code, "rule_source": r.rule_source} for r in rows if r.active]
    else:
        data = _shipped_toml("calendar.toml")
        head = dict(data.get("calendar", {}))
        raw = [o for o in data.get("obligation", []) if o.get("active", True)]
    default_roll = str(head.get("if_day_off", "keep"))
    out = {}
    for item in raw:
        out[item["code"]] = DueEntry(
            code=item["code"],
            rule=due_rule_from(item, default_roll),
            rule_source=str(item.get("rule_source", "")),
            report_kind=item.get("report_kind"),
            owed_by=tuple(item.get("owed_by", ())),
            discharged_by=str(item.get("discharged_by", "")),
            title_vi=str(item.get("title_vi", "")),
            title_en=str(item.get("title_en", "")),
        )
    return out


def due_date_of(
    session: Session,
    code: str,
    period: PeriodRef,
    *,
    usual_day: int | None = None,
    cal: WorkCalendar | None = None,
) -> date | None:
    """THE due date of obligation ``code`` for ``period`` (None: no such obligation in force).

    Reminders, /deadlines, /report, /summary, the digests and the documents all get their due
    dates from the catalog in force through this function (or :func:`instances`, which uses the
    same rule and calendar).
    """
    entry = due_entries(session).get(code)
    if entry is None or entry.rule.per_member:
        return None
    return due_date(entry.rule, period, cal or work_calendar(session), usual_day)


def report_due_date(session: Session, report_kind: str, period: PeriodRef) -> date | None:
    """THE due date of a report of ``report_kind`` for ``period`` (None: no obligation asks it)."""
    return report_due_dates(session, [(report_kind, period)])[0]


def report_due_dates(
    session: Session, asked: Sequence[tuple[str, PeriodRef]]
) -> list[date | None]:
    """:func:`report_due_date` of many (report kind, period) pairs, in order, reading the
    catalog and the working calendar once (a year's summary asks a dozen)."""
    entries = list(due_entries(session).values())
    cal: WorkCalendar | None = None
    out: list[date | None] = []
    for report_kind, period in asked:
        entry = next(
            (e for e in entries if e.report_kind == report_kind and e.rule.every == period.kind),
            None,
        )
        if entry is None:
            out.append(None)
            continue
        if cal is None:
            cal = work_calendar(session)
        out.append(due_date(entry.rule, period, cal))
    return out
