"""The use case behind /summary: the figures of a period over a subject of a scope."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from domain.rules.attendance import three_months_rule
from domain.rules.deadlines import Standing, period_standing
from domain.rules.membership import counting_day
from domain.rules.periods import Period
from storage import figures, obligations, reports
from storage.candidates_summary import pipeline
from storage.models import SignGroup
from storage.seed import get_setting
from storage.summary.breakdowns import groups_by_committee, groups_by_type
from storage.summary.cells import (
    active_in,
    counted_quarters,
    elapsed_months,
    month_bounds,
    org_info,
    quarter_bounds,
    usual_date,
)
from storage.summary.counts import (
    candidate_groups,
    cell_meetings,
    cell_records,
    member_lines,
    new_sign_lines,
    reviews_done,
    stage_order,
    unexcused_absences,
)
from storage.summary.model import (
    DEFAULT_TZ,
    RULE_SOURCE_MODEL,
    RULE_SOURCE_REGULAR,
    RULE_SOURCE_REVIEWS,
    RULE_SOURCE_THEMATIC,
    CandidateFigures,
    CellRow,
    Figures,
    FuturePeriod,
    Summary,
)
from storage.summary.reporting import owing_committees, report_figures, report_lines
from storage.summary.roll import cell_rolls
from storage.summary.scope import Scope, Subject, resolve_subject, scope_of


def summary_for(
    session: Session,
    *,
    person_id: int,
    period: Period,
    subject: Subject,
    today: date,
    now: datetime,
    kinds: Iterable[reports.ReportKind],
    tz: ZoneInfo = DEFAULT_TZ,
) -> tuple[Scope, Summary]:
    """The use case behind /summary: the person's scope (from their roles *now*) and the
    summary of ``subject`` for ``period`` (``kinds``: the reports cells owe, see
    :data:`storage.report_kinds.KINDS`). Raises :class:`NotAllowed` (no role left),
    :class:`NotInScope` (a subject outside the scope) or :class:`FuturePeriod`."""
    scope = scope_of(session, person_id, on=min(period.end, today))
    summary = build_summary(
        session,
        scope=scope,
        subject=subject,
        period=period,
        today=today,
        now=now,
        kinds=kinds,
        tz=tz,
    )
    return scope, summary


#: The keys of :attr:`Figures.new_signs`, in order: the sign groups, then a sign not grouped.
SIGN_KEYS = (*(g.value for g in SignGroup), "unspecified")


def build_summary(
    session: Session,
    *,
    scope: Scope,
    subject: Subject,
    period: Period,
    today: date,
    kinds: Iterable[reports.ReportKind],
    now: datetime | None = None,
    tz: ZoneInfo = DEFAULT_TZ,
) -> Summary:
    """Compute the summary of ``period`` for ``subject`` within ``scope``, as of ``today``;
    ``kinds`` are the reports cells owe (:data:`storage.report_kinds.KINDS`).

    Raises :class:`FuturePeriod` when the period starts after today and :class:`NotInScope`
    when the subject lies outside the scope.
    """
    if period.start > today:
        raise FuturePeriod(period=period.key, today=today.strftime("%d/%m/%Y"))
    info = resolve_subject(session, scope, subject)
    upto = min(period.end, today)
    months = elapsed_months(period, today)
    quarters = counted_quarters(period, today)
    cell_ids = list(info.cell_ids)
    orgs = org_info(session, cell_ids)
    grace = obligations.meeting_grace_days(session)
    rule = get_setting(session, "three_months_rule")
    warn_at, flag_at = int(rule.get("warn_at", 2)), int(rule.get("flag_at", 3))

    meeting, held_quarters = cell_meetings(session, cell_ids, period.start, upto, quarters)
    small = cell_records(session, cell_ids, period.year, months)
    with_model, candidates_by_cell = small.with_model, small.candidates
    reviewed_by_cell = reviews_done(session, cell_ids, months)
    # Who counts where and as what, month by month (domain.rules.membership).
    rolls = cell_rolls(session, cell_ids, months)
    considered = small.considered

    # The three-months rule counts the calendar year up to the end of the period.
    low = min(warn_at, flag_at)  # fewer distinct months than that raise nothing
    absent = unexcused_absences(session, cell_ids, period.year, upto, at_least=low)
    verdicts = {
        mid: three_months_rule(sorted(ms), warn_at=warn_at, flag_at=flag_at)
        for mid, ms in absent.items()
        if len(ms) >= low
    }
    verdicts = {mid: v for mid, v in verdicts.items() if v.level > 0}
    named = member_lines(
        session,
        {mid: absent[mid] for mid in verdicts},
        orgs,
        day=counting_day(*months[-1]) if months else period.start,
    )
    flagged = [
        replace(line, months=verdicts[line.member_id].months, level=2)
        for line in named
        if verdicts[line.member_id].level >= 2
    ]
    warned = [
        replace(line, months=verdicts[line.member_id].months, level=1)
        for line in named
        if verdicts[line.member_id].level == 1
    ]
    flagged_by_cell: dict[int, int] = defaultdict(int)
    warned_by_cell: dict[int, int] = defaultdict(int)
    for line in flagged:
        flagged_by_cell[line.cell_id] += 1
    for line in warned:
        warned_by_cell[line.cell_id] += 1
    new_signs = new_sign_lines(session, cell_ids, period.year, months, orgs)
    signs_by_cell: dict[int, dict[str, int]] = defaultdict(dict)
    for line in new_signs:
        key = line.sign_group or "unspecified"
        signs_by_cell[line.cell_id][key] = signs_by_cell[line.cell_id].get(key, 0) + 1

    rows: list[CellRow] = []
    for cid in cell_ids:
        org = orgs[cid]
        fig = meeting[cid]
        roll = rolls[cid]
        months_owed = [ym for ym in months if active_in(org, *month_bounds(*ym))]
        # A month still running without its meeting is in progress, not missing.
        months_running = [
            ym
            for ym in months_owed
            if period_standing(
                ym in fig.regular_months,
                month_bounds(*ym)[1],
                today,
                due=usual_date(ym, org.usual_day) if grace is not None else None,
                grace_days=grace,
            )
            is Standing.IN_PROGRESS
        ]
        months_due = [ym for ym in months_owed if ym not in months_running]
        months_held = [ym for ym in months_due if ym in fig.regular_months]
        held_q = held_quarters[cid]
        quarters_owed = [q for q in quarters if active_in(org, *quarter_bounds(*q))]
        quarters_running = [
            q
            for q in quarters_owed
            if period_standing(q in held_q, quarter_bounds(*q)[1], today) is Standing.IN_PROGRESS
        ]
        quarters_due = [q for q in quarters_owed if q not in quarters_running]
        quarters_held = [q for q in quarters_due if q in held_q]
        f = Figures(
            cells=1,
            members=roll.members,
            required_members=roll.required,
            regular_due=len(months_due),
            regular_held=len(months_held),
            regular_in_progress=len(months_running),
            cells_missing_regular=int(len(months_held) < len(months_due)),
            meetings=fig.meetings,
            superior_visits=fig.superior_visits,
            present=fig.present,
            required=fig.required,
            excused=fig.excused,
            unexcused=fig.unexcused,
            flagged=flagged_by_cell.get(cid, 0),
            warned=warned_by_cell.get(cid, 0),
            thematic_due=len(quarters_due),
            thematic_held=len(quarters_held),
            thematic_in_progress=len(quarters_running),
            cells_missing_thematic=int(len(quarters_held) < len(quarters_due)),
            reviews_due=sum(roll.to_review.get(ym, 0) for ym in months_due),
            reviews_done=reviewed_by_cell.get(cid, 0),
            new_signs={k: signs_by_cell[cid][k] for k in SIGN_KEYS if k in signs_by_cell[cid]},
            considerations_due=len(months_due),
            considerations_done=considered.get(cid, 0),
            candidates=sum(candidates_by_cell.get(cid, {}).values()),
            cells_without_model=int(cid not in with_model),
        )
        rows.append(
            CellRow(
                id=cid,
                code=org.code,
                name=org.name,
                kind=org.kind,
                type_code=org.type_code,
                group_id=org.group_id,
                months_due=months_due,
                months_held=months_held,
                quarters_due=quarters_due,
                quarters_held=quarters_held,
                months_in_progress=months_running,
                quarters_in_progress=quarters_running,
                last_held=fig.last_held,
                has_model=cid in with_model,
                figures=f,
            )
        )
    rows.sort(key=lambda r: r.code)

    # A grassroots party committee owes its own remedy reports (the calendar's owed_by): they
    # count in the figures of its type, its line by committee and the total, not in a cell's.
    committees = owing_committees(session, info.org_ids, period)
    owed_reports = report_lines(session, rows, kinds, period, upto, today, tz, committees)
    report_figs = report_figures(owed_reports)
    for row in rows:
        row.figures.add(report_figs.get(row.id, Figures()))

    by_type = groups_by_type(session, rows)
    by_committee = groups_by_committee(session, rows)
    total = Figures()
    for row in rows:
        total.add(row.figures)
    types = {g.key for g in by_type}
    for cid, _code, _name, type_code in committees:
        own = report_figs.get(cid)
        if own is None:
            continue
        total.add(own)
        for group in by_type:
            if group.key == (type_code if type_code in types else ""):
                group.figures.add(own)
        for group in by_committee:
            if group.key == str(cid):
                group.figures.add(own)

    cand = CandidateFigures()
    stage_totals: dict[str, int] = defaultdict(int)
    for per_stage in candidates_by_cell.values():
        for stage, n in per_stage.items():
            stage_totals[stage] += n
    cand.by_stage = dict(sorted(stage_totals.items(), key=lambda kv: stage_order(kv[0])))
    cand.by_group = candidate_groups(session, cell_ids)
    cand.tracked = bool(stage_totals) or total.considerations_done > 0

    has_data = bool(
        total.meetings
        or total.reviews_done
        or total.considerations_done
        or any(r.state in ("on_time", "late") for r in owed_reports)
    )
    return Summary(
        period=period,
        today=today,
        upto=upto,
        months=months,
        quarters=quarters,
        subject=info,
        scope_sees_all=scope.sees_all,
        cells=rows,
        total=total,
        by_type=by_type,
        by_committee=by_committee,
        flagged=flagged,
        warned=warned,
        new_signs=new_signs,
        candidates=cand,
        pipeline=pipeline(session, cell_ids, today=today, with_enterprises=scope.sees_all),
        reports=owed_reports,
        has_data=has_data,
        generated_at=now or datetime.now(UTC),
        assignments=figures.assignment_visits(session, cell_ids, date(period.year, 1, 1), upto),
        rule_sources={
            "regular": RULE_SOURCE_REGULAR,
            "thematic": RULE_SOURCE_THEMATIC,
            "three_months": "Điều lệ Đảng; Quy định thi hành Điều lệ Đảng (xóa tên đảng viên)",
            "reviews": RULE_SOURCE_REVIEWS,
            "model": RULE_SOURCE_MODEL,
        },
    )
