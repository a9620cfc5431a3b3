"""The summary's words: period and subject names, report kinds, months, stages, navigation.

Shared by every format of the summary (chat, JSON, Excel, Word, chart, the plan report).
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.i18n import N_, Translator
from domain.rules.periods import Period, month_of, quarter_of, year_of
from storage import report_kinds
from storage.models import SignGroup
from storage.summary import (
    CANDIDATE_STAGES,
    PRIORITY_GROUPS,
    Summary,
)

SCHEMA = "chibo.summary/1"
PAGE_SIZE = 10
NAME_MAX = 40

#: Short names of the sign groups for phone lines.
GROUP_SHORT: dict[str, str] = {
    SignGroup.POLITICAL.value: N_("political"),
    SignGroup.ETHICS.value: N_("ethics"),
    SignGroup.SELF_EVOLUTION.value: N_("self-evolution"),
    "unspecified": N_("group not given"),
}

#: The lists behind the figures: view code → title msgid.
LISTS: dict[str, str] = {
    "miss": N_("Cells missing a regular meeting"),
    "att": N_("Attendance by cell"),
    "abs": N_("Three-months rule: absences without reason"),
    "sup": N_("Superior committee attendance by cell"),
    "them": N_("Cells without a thematic meeting"),
    "rev": N_("Commitment reviews by cell"),
    "sign": N_("New signs of degradation"),
    "cand": N_("Candidates"),
    "rep": N_("Reports not submitted on time"),
    "mod": N_("Cells without a Hồ Chí Minh study model"),
    "cells": N_("Cells"),
}


def in_progress_text(t: Translator, n: int) -> str:
    """Cells whose month is still running without their meeting: not due, never missing."""
    return t.ngettext(
        "{n} cell has not met yet in a month still in progress (not due yet).",
        "{n} cells have not met yet in a month still in progress (not due yet).",
        n,
    ).format(n=t.number(n))


def assignment_intro(s: Summary, t: Translator) -> str:
    """The sentence before the table of visits by assignment."""
    return t.gettext(
        "Superior committee members' visits to the cells they are assigned to follow, "
        "{year} up to {date} (Quy định 784-QĐ/TU); a guest typed by name is not counted:"
    ).format(year=s.period.year, date=t.date(s.upto))


def assignment_rows(s: Summary) -> list[list[str]]:
    """(cell, follower, visits, meetings) per assignment, by cell code."""
    rows = []
    for a in sorted(s.assignments, key=lambda a: (getattr(s.cell(a.org_id), "code", ""), a.name)):
        row = s.cell(a.org_id)
        cell = f"{row.name} ({row.code})" if row else "?"
        rows.append([cell, a.name, str(a.visits), str(a.meetings)])
    return rows


def roman(n: int) -> str:
    """1 → I … 4 → IV (quarters)."""
    return {1: "I", 2: "II", 3: "III", 4: "IV"}.get(n, str(n))


def period_title(period: Period, t: Translator) -> str:
    """ "month 11/2026", "quarter IV/2026", "year 2026"."""
    if period.kind == "month":
        return t.gettext("month {month}").format(month=t.month(period.year, period.index))
    if period.kind == "quarter":
        return t.gettext("quarter {quarter}/{year}").format(
            quarter=roman(period.index), year=period.year
        )
    return t.gettext("year {year}").format(year=period.year)


def subject_name(s: Summary, t: Translator) -> str:
    """What the summary covers: an organization's name, a type's name, or "your scope"."""
    info = s.subject
    if info.subject.kind == "type":
        name = info.type_name_en if t.locale == "en" else info.type_name_vi
        return t.gettext("Type: {name}").format(name=name or "")
    if info.org_name:
        return info.org_name
    return t.gettext("All organizations in your scope")


def rate_text(t: Translator, done: int, due: int) -> str:
    return t.percent(done / due) if due else "—"


def report_kind_name(code: str, t: Translator) -> str:
    """The registered name of a report kind."""
    kind = report_kinds.KINDS.get(code)
    return t.gettext(kind.title) if kind else code


#: Who owes a report line (:attr:`storage.summary.ReportLine.org_kind`): a cell (chi bộ), or a
#: grassroots party committee (đảng bộ cơ sở) for its own report.
OWNER_KINDS: dict[str, str] = {
    "cell": N_("Cell"),
    "committee": N_("Grassroots party committee"),
}


def owner_kind_name(org_kind: str, t: Translator) -> str:
    """ "Chi bộ" or "Đảng bộ cơ sở": who owes a report of the summary's list."""
    return t.gettext(OWNER_KINDS.get(org_kind, OWNER_KINDS["cell"]))


def report_period_name(key: str, t: Translator) -> str:
    """ "2026-Q3" → "quarter III/2026"; "2026" → "year 2026"."""
    if "-Q" in key:
        year, q = key.split("-Q")
        return period_title(Period("quarter", int(year), int(q)), t)
    return period_title(Period("year", int(key)), t) if key.isdigit() else key


def month_list(months: list[tuple[int, int]], t: Translator) -> str:
    """ "01–03/2026, 05/2026": runs of consecutive months are shortened."""
    runs: list[list[tuple[int, int]]] = []
    for y, m in sorted(months):
        if runs and runs[-1][-1][0] == y and runs[-1][-1][1] == m - 1:
            runs[-1].append((y, m))
        else:
            runs.append([(y, m)])
    parts = []
    for run in runs:
        (y0, m0), (y1, m1) = run[0], run[-1]
        parts.append(t.month(y0, m0) if len(run) == 1 else f"{m0:02d}–{t.month(y1, m1)}")
    return ", ".join(parts)


def report_kind_short(code: str, t: Translator) -> str:
    """A report kind's short name for phone lines ("Remedy"), else its title."""
    kind = report_kinds.KINDS.get(code)
    if kind is None:
        return code
    return t.gettext(kind.short or kind.title)


def stage_name(code: str, t: Translator) -> str:
    """A candidate stage's name."""
    return t.gettext(CANDIDATE_STAGES[code]) if code in CANDIDATE_STAGES else code


def priority_name(code: str, t: Translator) -> str:
    """A priority group's name."""
    return t.gettext(PRIORITY_GROUPS[code]) if code in PRIORITY_GROUPS else code


def period_nav(period: Period, today: date) -> dict[str, Period | None]:
    """The periods the navigation buttons lead to (None when not yet started).

    Month / quarter / year switch around the last day counted (so from 2025 "month" leads to
    12/2025); previous and next step by the period's own kind.
    """
    anchor = min(period.end, today)
    nxt: Period | None
    day_after = period.end + timedelta(days=1)
    if period.kind == "month":
        nxt = month_of(day_after)
    elif period.kind == "quarter":
        nxt = quarter_of(day_after)
    else:
        nxt = year_of(day_after)
    return {
        "month": month_of(anchor),
        "quarter": quarter_of(anchor),
        "year": year_of(anchor),
        "prev": period.previous(),
        "next": nxt if nxt.start <= today else None,
    }


def three_months_text(t: Translator, flagged: int, warned: int) -> str:
    """The three-months rule's line, in words when nobody or only one side counts ("no member
    …", never "0 members …")."""
    _ = t.gettext

    def members(n: int) -> str:
        return t.ngettext("{n} member", "{n} members", n).format(n=t.number(n))

    if not flagged and not warned:
        return _(
            "Three-months rule: no member was absent without a valid reason in two months or "
            "more of the year."
        )
    if not flagged:
        return _(
            "Three-months rule: no member was absent without a valid reason in three months or "
            "more of the year; {warned} in two months (warned)."
        ).format(warned=members(warned))
    if not warned:
        return _(
            "Three-months rule: {flagged} absent without a valid reason in three months or more "
            "of the year (to be considered for removal); no member in two months."
        ).format(flagged=members(flagged))
    return _(
        "Three-months rule: {flagged} absent without reason in three months or more of "
        "the year (to be considered for removal), {warned} in two months (warned)."
    ).format(flagged=members(flagged), warned=members(warned))
