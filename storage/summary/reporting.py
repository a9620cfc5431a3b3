"""The reports a period's summary counts: which fell due, and each owing organization's standing.

Every organization the calendar asks for a report owes it here too (:func:`owing_committees`):
the cells, and the grassroots party committees for the reports they draft from their cells
(:func:`domain.rules.reporting.submits_report`), judged by the same due dates and rule."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.rules.periods import Period
from domain.rules.reporting import submits_report
from domain.rules.reviews import report_state
from storage import obligations, reports
from storage.models import (
    Organization,
    OrgKind,
    Report,
)
from storage.summary.cells import among
from storage.summary.model import CellRow, Figures, ReportLine

#: The organizations a report line stands for: (id, code, name, kind) — the cells' rows and the
#: committees that owe their own report.
Owner = tuple[int, str, str, str]

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


def owing_committees(
    session: Session, org_ids: Iterable[int], period: Period
) -> list[tuple[int, str, str, str | None]]:
    """(id, code, name, organization type) of the grassroots party committees among
    ``org_ids``, active during ``period``, that the calendar in force asks for a report they
    submit themselves."""
    owed = {
        entry.report_kind
        for entry in obligations.due_entries(session).values()
        if entry.report_kind
        and OrgKind.COMMITTEE.value in entry.owed_by
        and submits_report(OrgKind.COMMITTEE, entry.report_kind)
    }
    ids = list(org_ids)
    if not owed or not ids:
        return []
    rows = session.execute(
        select(
            Organization.id,
            Organization.code,
            Organization.name,
            Organization.org_type,
            Organization.active_from,
            Organization.active_to,
        ).where(among(session, Organization.id, ids), Organization.kind == OrgKind.COMMITTEE)
    ).tuples()
    return sorted(
        (
            (oid, code, name, org_type)
            for oid, code, name, org_type, active_from, active_to in rows
            if (active_from is None or active_from <= period.end)
            and (active_to is None or active_to >= period.start)
        ),
        key=lambda r: r[1],
    )


def report_lines(
    session: Session,
    rows: list[CellRow],
    kinds: Iterable[reports.ReportKind],
    period: Period,
    upto: date,
    today: date,
    tz: ZoneInfo,
    committees: Iterable[tuple[int, str, str, str | None]] = (),
) -> list[ReportLine]:
    """Each owing organization's standing for each report that fell due in the period, by the
    reports' own rule (:func:`domain.rules.reviews.report_state`: on time, late, missing, or
    not due yet when due today): every cell of ``rows``, and each of ``committees``
    (:func:`owing_committees`) for the kinds it submits. One query for every kind and period,
    like :func:`storage.reports.status_rows` does for one."""
    owners: list[Owner] = [(r.id, r.code, r.name, "cell") for r in rows]
    owners += [(oid, code, name, "committee") for oid, code, name, _t in committees]
    if not owners:
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
                among(session, Report.org_id, [o[0] for o in owners]),
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
    for org_id, org_code, org_name, org_kind in owners:
        for code, key, due in owed:
            if org_kind == "committee" and not submits_report(OrgKind.COMMITTEE, code):
                continue
            submitted_on = submitted.get((org_id, code, key))
            if due > upto and submitted_on is None:
                continue
            state = states.get((submitted_on, due))
            if state is None:
                state = states[(submitted_on, due)] = report_state(submitted_on, due, today).value
            lines.append(
                ReportLine(
                    org_id,
                    org_code,
                    org_name,
                    code,
                    key,
                    due,
                    state,
                    submitted_on,
                    org_kind,
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
