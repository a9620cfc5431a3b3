"""The reports a period's summary counts: which fell due, and each cell's standing."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.rules.periods import Period
from domain.rules.reviews import report_state
from storage import reports
from storage.models import (
    Report,
)
from storage.summary.cells import among
from storage.summary.model import CellRow, Figures, ReportLine

# --- Reports -----------------------------------------------------------------------------------


def report_obligations(
    session: Session, kinds: Iterable[reports.ReportKind], period: Period, upto: date
) -> list[tuple[str, Period, date]]:
    """(kind code, report period, due date) of the registered report kinds falling due between
    the period's start and ``upto`` (the due dates follow the admin's settings)."""
    asked: list[tuple[reports.ReportKind, Period]] = []
    for kind in kinds:
        for year in (period.year - 1, period.year):
            if kind.schedule.period_kind == "quarter":
                asked += [(kind, Period("quarter", year, q)) for q in range(1, 5)]
            else:
                asked.append((kind, Period("year", year)))
    dues = reports.due_dates(session, asked)
    out = [
        (kind.code, report_period, due)
        for (kind, report_period), due in zip(asked, dues, strict=True)
        if period.start <= due <= upto
    ]
    return sorted(out, key=lambda o: (o[2], o[0]))


def report_lines(
    session: Session,
    rows: list[CellRow],
    kinds: Iterable[reports.ReportKind],
    period: Period,
    upto: date,
    today: date,
    tz: ZoneInfo,
) -> list[ReportLine]:
    """Each cell's standing for each report that fell due in the period, by the reports' own
    rule (:func:`domain.rules.reviews.report_state`: on time, late, missing, or not due yet when
    due today). One query for every kind and period, like :func:`storage.reports.status_rows`
    does for one."""
    if not rows:
        return []
    # Reports due later in the period count only once submitted (early): a report sent before
    # its due date shows as submitted, and one not yet due is not owed yet.
    obligations = report_obligations(session, kinds, period, period.end)
    if not obligations:
        return []
    submitted = {
        (org_id, kind, key): submitted_at.astimezone(tz).date()
        for org_id, kind, key, submitted_at in session.execute(
            select(Report.org_id, Report.kind, Report.period, Report.submitted_at).where(
                among(session, Report.org_id, [r.id for r in rows]),
                Report.kind.in_(sorted({code for code, _p, _d in obligations})),
                Report.period.in_(sorted({p.key for _c, p, _d in obligations})),
                Report.submitted_at.is_not(None),
            )
        ).tuples()
        if submitted_at is not None
    }
    # A few distinct (submitted, due) pairs: the rule is asked once for each.
    states: dict[tuple[date | None, date], str] = {}
    lines = []
    owed = [(code, report_period.key, due) for code, report_period, due in obligations]
    for row in rows:
        for code, key, due in owed:
            submitted_on = submitted.get((row.id, code, key))
            if due > upto and submitted_on is None:
                continue
            state = states.get((submitted_on, due))
            if state is None:
                state = states[(submitted_on, due)] = report_state(submitted_on, due, today).value
            lines.append(
                ReportLine(
                    row.id,
                    row.code,
                    row.name,
                    code,
                    key,
                    due,
                    state,
                    submitted_on,
                )
            )
    return sorted(lines, key=lambda x: (x.org_code, x.due_on, x.kind))


def report_figures(lines: list[ReportLine]) -> dict[int, Figures]:
    out: dict[int, Figures] = defaultdict(Figures)
    for line in lines:
        f = out[line.org_id]
        f.reports_due += 1
        if line.state == "on_time":
            f.reports_on_time += 1
        elif line.state == "late":
            f.reports_late += 1
        elif line.state == "missing":
            f.reports_missing += 1
        else:
            f.reports_pending += 1
    return out
