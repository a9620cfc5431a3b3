"""Reports a cell owes: what a report kind is and the draft → submit → reopen lifecycle.

A :class:`ReportKind` says when a report is due for a period, which dates it covers, who receives
it and how to draft its figures. This module defines the two remedy reports (quarterly and
annual, Quy định 4842-QĐ/TU); other features define theirs with the same machinery (the annual
plan report in :mod:`storage.summary`), and :mod:`storage.report_kinds` lists them all in one
catalogue. The functions here take a :class:`ReportKind`; a code from a button is looked up in
the catalogue first.

Lifecycle. Looking at a report writes nothing: until it is submitted its figures are drafted
afresh from the reviews. Adding an assessment stores a draft row; submitting snapshots the
figures, keeps the submission time and enqueues one outbox notification per recipient, in the
same transaction. A submitted report is reopened only with a reason. ``submitted_at`` keeps the
*first* submission, which decides on time / late: correcting a reopened report does not make it
late. Every submission has its own audit row (and its time there).

Two devices submitting at once: the row is created under the unique (org, kind, period) key
and moved to "submitted" by a compare-and-set UPDATE; the loser raises
:class:`~domain.errors.AlreadyRecorded` and writes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Result, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.errors import AlreadyRecorded, InvalidInput, NotFound, NotInScope
from domain.i18n import N_
from domain.rules import reviews as rules
from domain.rules.deadlines import PeriodRef
from domain.rules.periods import Period, PeriodError, parse_period, quarter_of
from domain.rules.reporting import drafts_from_cells, submits_report
from storage import figures as shared_figures
from storage import obligations, outbox, reviews
from storage.audit import Actor, record, snapshot
from storage.doc_names import CELL_DOC_CODE, Signer, doc_names
from storage.models import (
    AuditLog,
    Organization,
    OrgKind,
    Person,
    Report,
    ReportStatus,
    ReviewOutcome,
    Role,
    RoleAssignment,
    Setting,
)
from storage.orgs import top_organization
from storage.seed import get_setting

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ASSESSMENT_MAX = 1500
REASON_MAX = 500
OUTBOX_KIND = "report_submitted"


# --- Schedules: when a kind is due and what it covers ----------------------------------------


@dataclass(frozen=True)
class Schedule:
    """The calendar of a report kind: one report per quarter or per year.

    ``default`` is the shipped rule ({"day": 20} for quarterly reports; {"month": 11, "day":
    15} for annual ones); an admin overrides it with a setting ``report_due.<kind>``.
    """

    period_kind: str  # "quarter" | "year"
    default: dict[str, int]

    def due_on(self, period: Period, spec: dict[str, int]) -> date:
        """The due date of the report for ``period``."""
        if self.period_kind == "quarter":
            return rules.quarterly_due(period.year, period.index, spec["day"])
        return rules.annual_due(period.year, spec["month"], spec["day"])

    def window(self, period: Period, spec: dict[str, int]) -> tuple[date, date]:
        """The first and last day the report covers."""
        due = self.due_on(period, spec)
        if self.period_kind == "quarter":
            return rules.quarterly_window(period.year, period.index, due)
        return rules.annual_window(due)

    def period_due_next(self, today: date, spec: dict[str, int]) -> Period:
        """The period whose report falls due next (on or after ``today``)."""
        quarterly = self.period_kind == "quarter"
        period = quarter_of(today) if quarterly else Period("year", today.year)
        if self.due_on(period, spec) < today:
            period = self.next(period)
        return period

    def next(self, period: Period) -> Period:
        """The period after ``period``."""
        if self.period_kind == "quarter":
            return Period("quarter", period.year + (period.index == 4), period.index % 4 + 1)
        return Period("year", period.year + 1)

    def parse(self, key: str) -> Period:
        """Read a period key (2026-Q4, 2026) of this schedule; raise :class:`InvalidInput`."""
        try:
            period = parse_period(key)
        except PeriodError as exc:
            raise InvalidInput(N_("That is not a report period.")) from exc
        if period.kind != self.period_kind:
            raise InvalidInput(N_("That is not a report period."))
        return period


QUARTERLY = Schedule("quarter", {"day": 20})
ANNUAL = Schedule("year", {"month": 11, "day": 15})


# --- The kind registry ------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftContext:
    """What a drafter gets: the organization, the period and the dates the report covers.

    ``cell_ids``: the cells whose records the report draws on — the cell itself, or for a
    grassroots party committee the cells under it (:mod:`domain.rules.reporting`).
    """

    org: Organization
    kind: ReportKind
    period: Period
    due_on: date
    start: date
    end: date
    today: date
    cell_ids: tuple[int, ...] = ()

    @property
    def from_cells(self) -> bool:
        """The report adds up the reports of the cells below (a committee's)."""
        return drafts_from_cells(self.org.kind)


Drafter = Callable[[Session, DraftContext], dict[str, Any]]


@dataclass(frozen=True)
class ReportKind:
    """A kind of report cells owe."""

    code: str  # ≤ 16 characters: it travels in callback data
    title: str  # msgid (N_) of the report's name in menus
    schedule: Schedule
    recipient_roles: frozenset[Role]  # held on the top organization
    draft: Drafter
    rule_source: str
    notify_msgid: str  # msgid for recipients; params: cell, code, year, quarter, period, date
    renotify_msgid: str  # the same after a reopened report is submitted again
    short: str = ""  # msgid of a short name for buttons ("Remedy")


def catalog(*kinds: ReportKind) -> dict[str, ReportKind]:
    """Code → kind for ``kinds``, in order; a code must be short, unique and without a colon
    (it travels in callback data)."""
    out: dict[str, ReportKind] = {}
    for kind in kinds:
        if len(kind.code) > 16 or ":" in kind.code:
            raise ValueError(f"report kind code {kind.code!r} must be ≤ 16 characters, no colon")
        if kind.code in out:
            raise ValueError(f"report kind code {kind.code!r} is listed twice")
        out[kind.code] = kind
    return out


def lookup(kinds: dict[str, ReportKind], code: str) -> ReportKind:
    """The kind of ``code`` in a catalogue; an unknown code is a stale request."""
    try:
        return kinds[code]
    except KeyError as exc:
        raise NotFound() from exc


def spec_of(session: Session, kind: ReportKind) -> dict[str, int]:
    """The due-date rule of a kind: the admin's setting ``report_due.<code>`` or the default."""
    row = session.get(Setting, f"report_due.{kind.code}")
    spec = dict(kind.schedule.default)
    if row is not None and isinstance(row.value, dict):
        spec.update({k: int(v) for k, v in row.value.items() if k in spec})
    return spec


def period_of(kind: ReportKind, period: Period | str) -> Period:
    """A period of the kind's schedule, from a :class:`Period` or its key."""
    if isinstance(period, Period):
        if period.kind != kind.schedule.period_kind:
            raise InvalidInput(N_("That is not a report period."))
        return period
    return kind.schedule.parse(period)


def due_on(session: Session, kind: ReportKind, period: Period) -> date:
    """When the report of ``kind`` for ``period`` is due: the catalog in force decides.

    The obligation whose ``report_kind`` is this kind gives the date, rolled off a day off as the
    catalog says (:func:`storage.obligations.report_due_date`, the one source of the reminders,
    /deadlines and the digests too). A kind no obligation asks for keeps its shipped schedule.
    """
    return due_dates(session, [(kind, period)])[0]


def due_dates(session: Session, asked: Sequence[tuple[ReportKind, Period]]) -> list[date]:
    """:func:`due_on` of many (kind, period) pairs, in order, with the catalog and the working
    calendar read once."""
    found = obligations.report_due_dates(
        session, [(kind.code, PeriodRef(p.kind, p.year, p.index)) for kind, p in asked]
    )
    return [
        due if due is not None else kind.schedule.due_on(period, spec_of(session, kind))
        for (kind, period), due in zip(asked, found, strict=True)
    ]


def window(session: Session, kind: ReportKind, period: Period) -> tuple[date, date]:
    """The first and last day the report covers (its period up to the due date in force)."""
    due = due_on(session, kind, period)
    if kind.schedule.period_kind == "quarter":
        return rules.quarterly_window(period.year, period.index, due)
    return rules.annual_window(due)


def recent_periods(session: Session, kind: ReportKind, today: date, n: int = 2) -> list[Period]:
    """The period due next and the ``n - 1`` before it, newest first."""
    quarterly = kind.schedule.period_kind == "quarter"
    period = quarter_of(today) if quarterly else Period("year", today.year)
    if due_on(session, kind, period) < today:
        period = kind.schedule.next(period)
    out = [period]
    while len(out) < n:
        period = period.previous()
        out.append(period)
    return out


# --- Views ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportView:
    """A report as shown to a person: stored, or drafted on the fly."""

    kind: ReportKind
    period: Period
    org_id: int
    org_code: str
    org_name: str
    superior_name: str  # the organization above the cell
    top_name: str
    due_on: date
    start: date
    end: date
    status: ReportStatus | None  # None: nothing stored yet
    figures: dict[str, Any]
    assessment: str | None
    submitted_at: datetime | None
    signer: str | None
    reopen_reason: str | None
    submissions: int
    report_id: int | None
    place: str
    today: date
    issuer_name: str = ""  # the cell's committee where it has one, else the cell (doc_names)
    doc_code: str = CELL_DOC_CODE
    signs_for: Signer = Signer.CELL_COMMITTEE

    @property
    def submitted(self) -> bool:
        """Whether the report stands submitted."""
        return self.status is ReportStatus.SUBMITTED

    def state(self, tz: ZoneInfo = LOCAL_TZ) -> rules.ReportState:
        """On time, late, missing or not due."""
        submitted_on = self.submitted_at.astimezone(tz).date() if self.submitted_at else None
        return rules.report_state(submitted_on, self.due_on, self.today)


def _reporter(session: Session, org_id: int, kind: ReportKind) -> Organization:
    """The organization, when it drafts and submits reports of ``kind``: a cell, or a grassroots
    party committee for its remedy reports (:func:`domain.rules.reporting.submits_report`)."""
    org = session.get(Organization, org_id)
    if org is None or not submits_report(org.kind, kind.code):
        raise NotInScope()
    return org


def cells_under(session: Session, org: Organization, start: date, end: date) -> list[int]:
    """The cells a report of ``org`` draws on over [start, end]: the cell itself, or the cells
    right under a committee that existed at some point of the window (by code)."""
    if not drafts_from_cells(org.kind):
        return [org.id]
    return list(
        session.scalars(
            select(Organization.id)
            .where(
                Organization.parent_id == org.id,
                Organization.kind.in_([k for k in OrgKind if k.holds_meetings]),
                or_(Organization.active_from.is_(None), Organization.active_from <= end),
                or_(Organization.active_to.is_(None), Organization.active_to >= start),
            )
            .order_by(Organization.code)
        )
    )


def _row(session: Session, org_id: int, kind: ReportKind, period: Period) -> Report | None:
    return session.scalar(
        select(Report).where(
            Report.org_id == org_id, Report.kind == kind.code, Report.period == period.key
        )
    )


def _context(
    session: Session, org: Organization, kind: ReportKind, period: Period, today: date
) -> DraftContext:
    start, end = window(session, kind, period)
    cells = tuple(cells_under(session, org, start, end))
    return DraftContext(org, kind, period, due_on(session, kind, period), start, end, today, cells)


def submissions(session: Session, report_id: int) -> int:
    """How many times the report was submitted (the audit keeps each submission)."""
    return int(
        session.scalar(
            select(func.count(AuditLog.id)).where(
                AuditLog.entity == "report",
                AuditLog.entity_id == str(report_id),
                AuditLog.action == "submit",
            )
        )
        or 0
    )


def view(
    session: Session, *, org_id: int, kind: ReportKind, period: Period | str, today: date
) -> ReportView:
    """The report of a cell for a period: the submitted snapshot, or a fresh draft."""
    period = period_of(kind, period)
    org = _reporter(session, org_id, kind)
    ctx = _context(session, org, kind, period, today)
    report = _row(session, org_id, kind, period)
    if report is not None and report.status is ReportStatus.SUBMITTED:
        figures = report.figures
    else:
        figures = kind.draft(session, ctx)
    top = top_organization(session)
    names = doc_names(session, org)
    signer = session.get(Person, report.submitted_by) if report and report.submitted_by else None
    place = get_setting(session, "document_place")
    return ReportView(
        kind=kind,
        period=period,
        org_id=org.id,
        org_code=org.code,
        org_name=org.name,
        superior_name=names.superior,
        top_name=(top or org).name,
        due_on=ctx.due_on,
        start=ctx.start,
        end=ctx.end,
        status=report.status if report else None,
        figures=figures,
        assessment=report.assessment if report else None,
        submitted_at=report.submitted_at if report else None,
        signer=signer.display_name if signer else None,
        reopen_reason=report.reopen_reason if report else None,
        submissions=submissions(session, report.id) if report else 0,
        report_id=report.id if report else None,
        place=str(place.get("place", "")) if isinstance(place, dict) else str(place),
        today=today,
        issuer_name=names.issuer,
        doc_code=names.doc_code,
        signs_for=names.signer,
    )


# --- Writes -----------------------------------------------------------------------------------


_AUDIT_FIELDS = [
    "org_id",
    "kind",
    "period",
    "status",
    "assessment",
    "submitted_at",
    "reopen_reason",
]


def _new_row(
    org: Organization, kind: ReportKind, period: Period, ctx: DraftContext, now: datetime
) -> Report:
    return Report(
        org_id=org.id,
        kind=kind.code,
        period=period.key,
        due_on=ctx.due_on,
        status=ReportStatus.DRAFT,
        figures={},
        created_at=now,
        updated_at=now,
    )


def _get_or_create(
    session: Session,
    org: Organization,
    kind: ReportKind,
    period: Period,
    ctx: DraftContext,
    now: datetime,
) -> tuple[Report, bool]:
    """The report row, created as a draft when missing (safe against a concurrent insert)."""
    report = _row(session, org.id, kind, period)
    if report is not None:
        return report, False
    try:
        with session.begin_nested():
            report = _new_row(org, kind, period, ctx, now)
            session.add(report)
            session.flush()
        return report, True
    except IntegrityError:
        report = _row(session, org.id, kind, period)
        if report is None:
            raise
        return report, False


def set_assessment(
    session: Session,
    *,
    org_id: int,
    kind: ReportKind,
    period: Period | str,
    text: str | None,
    actor: Actor,
    now: datetime,
    today: date,
) -> bool:
    """Store the secretary's short assessment on a report not yet submitted."""
    period = period_of(kind, period)
    org = _reporter(session, org_id, kind)
    value = rules.short_text(text, ASSESSMENT_MAX) if text else None
    if text and value is None:
        raise InvalidInput(N_("That assessment is empty. Nothing was saved."))
    if value is not None and len(value) > ASSESSMENT_MAX:
        raise InvalidInput(
            N_("That is too long: keep it under {limit} characters."), limit=ASSESSMENT_MAX
        )
    ctx = _context(session, org, kind, period, today)
    report, created = _get_or_create(session, org, kind, period, ctx, now)
    if report.status is ReportStatus.SUBMITTED:
        raise InvalidInput(N_("This report is submitted. Reopen it (with a reason) to change it."))
    if not created and report.assessment == value:
        return False
    before = None if created else snapshot(report, _AUDIT_FIELDS)
    report.assessment = value
    report.updated_at = now
    record(
        session,
        actor=actor,
        at=now,
        action="create" if created else "update",
        entity="report",
        entity_id=report.id,
        before=before,
        after=snapshot(report, _AUDIT_FIELDS),
    )
    return True


@dataclass(frozen=True)
class Submission:
    """What a submission did."""

    report_id: int
    number: int  # 1 for the first submission, 2 after one reopening…
    notified: int  # outbox rows enqueued
    state: rules.ReportState


def recipients(session: Session, kind: ReportKind) -> list[int]:
    """People holding one of the kind's recipient roles on the top organization."""
    top = top_organization(session)
    if top is None:
        return []
    return list(
        session.scalars(
            select(RoleAssignment.person_id)
            .where(
                RoleAssignment.org_id == top.id,
                RoleAssignment.role.in_(kind.recipient_roles),
                RoleAssignment.revoked_at.is_(None),
            )
            .group_by(RoleAssignment.person_id)
            .order_by(RoleAssignment.person_id)
        )
    )


def submit(
    session: Session,
    *,
    org_id: int,
    kind: ReportKind,
    period: Period | str,
    expected: int | None,
    actor: Actor,
    now: datetime,
    today: date,
    tz: ZoneInfo = LOCAL_TZ,
) -> Submission:
    """Submit the report: snapshot its figures, keep the time, notify the recipients.

    ``expected`` is the number of earlier submissions the person saw on their screen; a button
    pressed on a screen that is out of date (or a second device) raises :class:`AlreadyRecorded`
    and writes nothing. A period without any review can be submitted only with an assessment
    that explains it.
    """
    period = period_of(kind, period)
    org = _reporter(session, org_id, kind)
    ctx = _context(session, org, kind, period, today)
    if today < ctx.start:
        raise InvalidInput(N_("This report's period has not started yet."))
    report, created = _get_or_create(session, org, kind, period, ctx, now)
    earlier = 0 if created else submissions(session, report.id)
    if report.status is ReportStatus.SUBMITTED or (expected is not None and expected != earlier):
        raise AlreadyRecorded(N_("This report has already been submitted."))
    figures = kind.draft(session, ctx)
    if figures.get("no_reviews") and not report.assessment:
        raise InvalidInput(
            N_(
                "No review was recorded in this period. Add an assessment explaining why "
                "before submitting."
            )
        )
    before = None if created else snapshot(report, _AUDIT_FIELDS)
    first_time = report.submitted_at is None
    changed = _rowcount(
        session.execute(
            update(Report)
            .where(
                Report.id == report.id,
                Report.status.in_([ReportStatus.DRAFT, ReportStatus.REOPENED]),
            )
            .values(
                status=ReportStatus.SUBMITTED,
                figures=figures,
                due_on=ctx.due_on,
                submitted_at=now if first_time else report.submitted_at,
                submitted_by=actor.person_id,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    )
    if changed != 1:
        raise AlreadyRecorded(N_("This report has already been submitted."))
    session.refresh(report)
    number = earlier + 1
    after = snapshot(report, _AUDIT_FIELDS)
    after["figures"] = figures
    after["submission"] = number
    record(
        session,
        actor=actor,
        at=now,
        action="submit",
        entity="report",
        entity_id=report.id,
        before=before,
        after=after,
    )
    local = now.astimezone(tz)
    params: dict[str, Any] = {
        "cell": org.name,
        "code": org.code,
        "year": period.year,
        "quarter": _roman(period.index) if period.kind == "quarter" else "",
        "period": period.key,
        "date": f"{local.day:02d}/{local.month:02d}/{local.year}",
        "report_id": report.id,
        "submission": number,
    }
    msgid = kind.notify_msgid if number == 1 else kind.renotify_msgid
    notified = 0
    for person_id in recipients(session, kind):
        # The outbox's unique key makes the enqueue idempotent; the drainer renders the msgid
        # in the recipient's language.
        notified += outbox.enqueue(
            session,
            key=f"rpt:{report.id}:{number}:{person_id}",
            person_id=person_id,
            kind=OUTBOX_KIND,
            payload={"msgid": msgid, "params": params},
            not_before=now,
            now=now,
        )
    session.flush()
    assert report.submitted_at is not None
    state = rules.report_state(report.submitted_at.astimezone(tz).date(), ctx.due_on, today)
    return Submission(report.id, number, notified, state)


def reopen(
    session: Session,
    *,
    org_id: int,
    kind: ReportKind,
    period: Period | str,
    reason: str | None,
    actor: Actor,
    now: datetime,
) -> bool:
    """Reopen a submitted report so it can be corrected; the reason is required and audited."""
    period = period_of(kind, period)
    _reporter(session, org_id, kind)
    value = rules.short_text(reason, REASON_MAX)
    if value is None:
        raise InvalidInput(N_("Please give the reason for reopening the report."))
    report = _row(session, org_id, kind, period)
    if report is None or report.status is not ReportStatus.SUBMITTED:
        raise InvalidInput(N_("This report is not submitted: there is nothing to reopen."))
    before = snapshot(report, _AUDIT_FIELDS)
    changed = _rowcount(
        session.execute(
            update(Report)
            .where(Report.id == report.id, Report.status == ReportStatus.SUBMITTED)
            .values(status=ReportStatus.REOPENED, reopen_reason=value, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if changed != 1:
        raise InvalidInput(N_("This report is not submitted: there is nothing to reopen."))
    session.refresh(report)
    record(
        session,
        actor=actor,
        at=now,
        action="reopen",
        entity="report",
        entity_id=report.id,
        before=before,
        after=snapshot(report, _AUDIT_FIELDS),
    )
    return True


# --- Who submitted on time --------------------------------------------------------------------


@dataclass(frozen=True)
class CellReportRow:
    """One cell's standing for a report kind and period."""

    org_id: int
    code: str
    name: str
    state: rules.ReportState
    status: ReportStatus | None
    submitted_at: datetime | None

    @property
    def reopened(self) -> bool:
        """Submitted once, reopened and not yet submitted again."""
        return self.status is ReportStatus.REOPENED


def status_rows(
    session: Session,
    cell_ids: list[int],
    kind: ReportKind,
    period: Period | str,
    *,
    today: date,
    tz: ZoneInfo = LOCAL_TZ,
) -> list[CellReportRow]:
    """Each cell's standing (on time, late, missing, not due), by cell code."""
    period = period_of(kind, period)
    if not cell_ids:
        return []
    due = due_on(session, kind, period)
    rows = session.execute(
        select(
            Organization.id,
            Organization.code,
            Organization.name,
            Report.status,
            Report.submitted_at,
        )
        .outerjoin(
            Report,
            and_(
                Report.org_id == Organization.id,
                Report.kind == kind.code,
                Report.period == period.key,
            ),
        )
        .where(Organization.id.in_(cell_ids))
        .order_by(Organization.code)
    ).all()
    out = []
    for org_id, code, name, status, submitted_at in rows:
        submitted_on = submitted_at.astimezone(tz).date() if submitted_at else None
        out.append(
            CellReportRow(
                org_id,
                code,
                name,
                rules.report_state(submitted_on, due, today),
                status,
                submitted_at,
            )
        )
    return out


def report_status(
    session: Session,
    cell_ids: list[int],
    kind: ReportKind,
    period: Period | str,
    *,
    today: date,
    tz: ZoneInfo = LOCAL_TZ,
) -> dict[int, rules.ReportState]:
    """Cell id → on_time / late / missing / not_due for a report kind and period."""
    return {
        row.org_id: row.state
        for row in status_rows(session, cell_ids, kind, period, today=today, tz=tz)
    }


def status_counts(
    session: Session,
    cell_ids: list[int],
    kind: ReportKind,
    period: Period | str,
    *,
    today: date,
    tz: ZoneInfo = LOCAL_TZ,
) -> dict[rules.ReportState, int]:
    """How many cells stand on time, late, missing and not due (for summaries)."""
    counted = Counter(report_status(session, cell_ids, kind, period, today=today, tz=tz).values())
    return {state: counted.get(state, 0) for state in rules.ReportState}


# --- The remedy reports -----------------------------------------------------------------------


def draft_remedy(session: Session, ctx: DraftContext) -> dict[str, Any]:
    """Figures of a remedy report, drafted from the monthly reviews of the window: a cell's own,
    or for a grassroots party committee the cells' under it added up, with which cells have
    and have not submitted their report (:mod:`domain.rules.reporting`)."""
    cell_ids = list(ctx.cell_ids or (ctx.org.id,))
    covered = rules.months_in_window(ctx.start, ctx.end)
    started = [ym for ym in covered if date(ym[0], ym[1], 1) <= ctx.today]
    by_cell = reviews.outcome_counts(session, cell_ids=cell_ids, months=started)
    counts: dict[tuple[int, int], Counter[ReviewOutcome]] = {}
    roll: Counter[tuple[int, int]] = Counter()
    for cid in cell_ids:
        for ym, outcomes in by_cell.get(cid, {}).items():
            counts.setdefault(ym, Counter()).update(outcomes)
        roll.update(reviews.roll_counts(session, org_id=cid, months=started))
    met: Counter[tuple[int, int]] = Counter()
    if started:
        last_y, last_m = started[-1]
        held = shared_figures.meeting_figures(
            session,
            cell_ids,
            date(started[0][0], started[0][1], 1),
            rules.month_bounds(last_y, last_m)[1],
        )
        for cid in cell_ids:
            met.update(held[cid].regular_months)
    months = []
    totals = {o.value: 0 for o in ReviewOutcome}
    for y, m in started:
        by_outcome: Counter[ReviewOutcome] = counts.get((y, m), Counter())
        row = {
            "month": f"{y}-{m:02d}",
            "on_roll": roll.get((y, m), 0),
            "reviewed": sum(by_outcome.values()),
            # A cell: it met; a committee: every cell met (cells_met says how many did).
            "meeting": met.get((y, m), 0) >= len(cell_ids),
            "cells_met": met.get((y, m), 0),
        }
        for outcome in ReviewOutcome:
            row[outcome.value] = by_outcome.get(outcome, 0)
            totals[outcome.value] += by_outcome.get(outcome, 0)
        months.append(row)
    total_reviews = sum(totals.values())
    last = started[-1] if started else None
    watch = reviews.watch_list(session, cell_ids=cell_ids, as_of=last) if last is not None else []
    signs = [s for cid in cell_ids for s in reviews.new_signs(session, org_id=cid, months=started)]
    sign_texts = {x.code: x.text for x in reviews.signs_in_force(session)}
    improved = [
        i for cid in cell_ids for i in reviews.improvements(session, org_id=cid, months=started)
    ]
    groups = reviews.sign_counts(session, cell_ids=cell_ids, months=started)
    by_group: Counter[Any] = Counter()
    for cid in cell_ids:
        by_group.update(groups.get(cid, {}))
    board_ym = last or covered[0]
    exempt = sum(
        1
        for cid in cell_ids
        for line in reviews.month_board(
            session, org_id=cid, year=board_ym[0], month=board_ym[1]
        ).apart
        if line.reason is rules.NotReviewable.EXEMPT
    )
    cells: list[dict[str, Any]] = []
    if ctx.from_cells:
        cells = [
            {
                "code": row.code,
                "name": row.name,
                "state": row.state.value,
                "submitted": row.status is ReportStatus.SUBMITTED,
                "submitted_on": (
                    local_date(row.submitted_at).isoformat() if row.submitted_at else None
                ),
            }
            for row in status_rows(session, cell_ids, ctx.kind, ctx.period, today=ctx.today)
        ]
    return {
        "kind": ctx.kind.code,
        "period": ctx.period.key,
        "start": ctx.start.isoformat(),
        "end": ctx.end.isoformat(),
        "due_on": ctx.due_on.isoformat(),
        "drafted_on": ctx.today.isoformat(),
        "rule_source": ctx.kind.rule_source,
        "months_covered": len(covered),
        "months_started": len(started),
        "months_reviewed": sum(1 for row in months if row["reviewed"]),
        "no_reviews": total_reviews == 0,
        "months": months,
        "totals": {"reviews": total_reviews, **totals},
        "exempt": exempt,
        "by_group": {g.value: by_group.get(g, 0) for g in by_group},
        # A committee's report: its cells, and which of them submitted theirs.
        "from_cells": ctx.from_cells,
        "cells": cells,
        "cells_submitted": sum(1 for c in cells if c["submitted"]),
        "new_signs": [
            {
                "name": s.name,
                "month": f"{s.year}-{s.month:02d}",
                "group": s.sign_group.value if s.sign_group else None,
                "sign": s.sign_code,
                "sign_text": sign_texts.get(s.sign_code or ""),
                "description": s.description,
                "measure": s.measure,
            }
            for s in signs
        ],
        # New signs by sign (code → how many), for the report's table by group and by sign.
        "by_sign": dict(Counter(s.sign_code for s in signs if s.sign_code)),
        "sign_texts": {
            code: sign_texts[code] for code in {s.sign_code for s in signs} if code in sign_texts
        },
        "improved": [
            {"name": i.name, "month": f"{i.year}-{i.month:02d}", "before": i.before.value}
            for i in improved
        ],
        "watch": [
            {
                "name": w.name,
                "since": f"{w.since[0]}-{w.since[1]:02d}",
                "months": w.verdict.months_without_progress,
                "new_sign": w.verdict.new_sign,
                "removal_ground": w.verdict.removal_ground,
                "group": w.sign_group.value if w.sign_group else None,
            }
            for w in watch
        ],
    }


REMEDY_RECIPIENTS = frozenset({Role.INSPECTION})

REMEDY_QUARTERLY = ReportKind(
    code="remedy_quarterly",
    title=N_("Quarterly report on remedying degradation"),
    schedule=QUARTERLY,
    recipient_roles=REMEDY_RECIPIENTS,
    draft=draft_remedy,
    rule_source=rules.RULE_SOURCE_REPORTS,
    notify_msgid=N_(
        "📥 {cell} submitted its report on remedying degradation for quarter "
        "{quarter}/{year} on {date}."
    ),
    renotify_msgid=N_(
        "📥 {cell} submitted a corrected report on remedying degradation for quarter "
        "{quarter}/{year} on {date}."
    ),
    # TRANSLATORS: short name of the remedy reports on a button, before the period
    short=N_("Remedy"),
)

REMEDY_ANNUAL = ReportKind(
    code="remedy_annual",
    title=N_("Annual report on remedying degradation"),
    schedule=ANNUAL,
    recipient_roles=REMEDY_RECIPIENTS,
    draft=draft_remedy,
    rule_source=rules.RULE_SOURCE_REPORTS,
    notify_msgid=N_(
        "📥 {cell} submitted its annual report on remedying degradation for {year} on {date}."
    ),
    renotify_msgid=N_(
        "📥 {cell} submitted a corrected annual report on remedying degradation for {year} "
        "on {date}."
    ),
    # TRANSLATORS: short name of the remedy reports on a button, before the period
    short=N_("Remedy"),
)


def _rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE matched (for DML, ``Session.execute`` returns a ``CursorResult``)."""
    return cast(CursorResult[Any], result).rowcount


def _roman(n: int) -> str:
    return {1: "I", 2: "II", 3: "III", 4: "IV"}.get(n, str(n))


def local_date(value: datetime, tz: ZoneInfo = LOCAL_TZ) -> date:
    """The calendar date of a stored UTC time."""
    return value.astimezone(tz).date()


def note_export(session: Session, *, report: ReportView, actor: Actor, now: datetime) -> None:
    """Audit that a report (it names members) left the system as a document."""
    record(
        session,
        actor=actor,
        at=now,
        action="export",
        entity="report_file",
        entity_id=report.report_id,
        after={
            "org_id": report.org_id,
            "kind": report.kind.code,
            "period": report.period.key,
            "status": report.status.value if report.status else None,
        },
    )
