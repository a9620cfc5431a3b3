"""One cell, month by month over a year."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from domain.errors import NotFound, NotInScope
from domain.rules.periods import Period
from storage import figures, reports, reviews
from storage.models import (
    MemberStatus,
    ReviewOutcome,
)
from storage.summary.build import build_summary
from storage.summary.model import CellRow, FuturePeriod
from storage.summary.roll import cell_rolls
from storage.summary.scope import Scope, Subject

# --- One cell, month by month ------------------------------------------------------------------


@dataclass
class MonthLine:
    """One month of one cell: its meetings (from :func:`storage.figures.monthly_figures`) and
    its commitment reviews."""

    year: int
    month: int
    due: bool  # the cell was active that month
    meeting: figures.MonthFigures
    to_review: int = 0
    reviewed: int = 0
    new_signs: int = 0
    in_progress: bool = False  # the month is still running without its meeting (not due yet)


@dataclass
class CellYear:
    """One cell's months of a year, with its figures and roll."""

    cell: CellRow
    year: int
    months: list[MonthLine]
    members: dict[MemberStatus, int]  # the roll of the year's last month counted, by status


def cell_year(
    session: Session,
    *,
    scope: Scope,
    cell_id: int,
    year: int,
    today: date,
    kinds: Iterable[reports.ReportKind],
) -> CellYear:
    """One cell month by month over ``year`` up to today; :class:`NotInScope` outside scope."""
    if cell_id not in scope.cell_ids:
        raise NotInScope()
    period = Period("year", year)
    if period.start > today:
        raise FuturePeriod(period=period.key, today=today.strftime("%d/%m/%Y"))
    summary = build_summary(
        session,
        scope=scope,
        subject=Subject("org", org_id=cell_id),
        period=period,
        today=today,
        kinds=kinds,
    )
    row = summary.cell(cell_id)
    if row is None:
        raise NotFound()
    months = summary.months
    found = figures.monthly_figures(session, [cell_id], period.start, summary.upto)[cell_id]
    outcomes = reviews.outcome_counts(session, cell_ids=[cell_id], months=months)[cell_id]
    roll = cell_rolls(session, [cell_id], months)[cell_id]
    running = set(row.months_in_progress)
    due = set(row.months_due) | running
    lines = []
    for ym in months:
        done = outcomes.get(ym, {})
        lines.append(
            MonthLine(
                ym[0],
                ym[1],
                ym in due,
                found.get(ym) or figures.MonthFigures(),
                to_review=roll.to_review.get(ym, 0) if ym in due else 0,
                reviewed=sum(done.values()),
                new_signs=done.get(ReviewOutcome.NEW_SIGN, 0),
                in_progress=ym in running,
            )
        )
    return CellYear(row, year, lines, roll.last)
