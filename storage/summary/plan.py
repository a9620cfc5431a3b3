"""The annual report on carrying out the plan (Kế hoạch 12-KH/ĐUK, III.1) and its roll-up."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.i18n import N_
from domain.rules import reviews as review_rules
from domain.rules.attendance import three_months_rule
from domain.rules.periods import Period
from storage import figures, reports, reviews
from storage.models import (
    CandidateConsideration,
    Member,
    Report,
    ReportStatus,
    Role,
    SignGroup,
    StudyModel,
)
from storage.seed import get_setting
from storage.summary.cells import among
from storage.summary.counts import candidate_counts, stage_order
from storage.summary.roll import roll_counts
from storage.summary.scope import Scope

# --- The annual report on carrying out the plan -----------------------------------------------

RULE_SOURCE_PLAN = "Kế hoạch 12-KH/ĐUK, mục III.1"
PLAN_KIND = "plan_annual"


def draft_plan_annual(session: Session, ctx: reports.DraftContext) -> dict[str, Any]:
    """Figures of one cell's annual report on carrying out the plan (Kế hoạch 12-KH/ĐUK,
    III.1), drafted from the records of the window the report covers (by default the 12 months
    ending on 15 November) up to today; the same machinery as the remedy reports snapshots them
    when the cell submits.
    """
    cell = ctx.org.id
    upto = min(ctx.end, ctx.today)
    covered = review_rules.months_in_window(ctx.start, ctx.end)
    started = [ym for ym in covered if date(ym[0], ym[1], 1) <= upto]
    start = ctx.start
    meet = figures.meeting_figures(session, [cell], start, upto)[cell]
    monthly = figures.monthly_figures(session, [cell], start, upto)[cell] if started else {}
    thematic_quarters = sorted(
        {(y, (m - 1) // 3 + 1) for (y, m), f in monthly.items() if f.thematic}
    )
    quarters = sorted({(y, (m - 1) // 3 + 1) for y, m in started})
    done = reviews.outcome_counts(session, cell_ids=[cell], months=started)[cell]
    by_group = reviews.sign_counts(session, cell_ids=[cell], months=started)[cell]
    to_review = roll_counts(session, [cell], started).get(cell, {})
    rule = get_setting(session, "three_months_rule")
    absent = figures.unexcused_months(session, [cell], ctx.period.year)
    verdicts = {
        mid: three_months_rule(
            [m for m in ms if date(ctx.period.year, m, 1) <= upto],
            warn_at=int(rule.get("warn_at", 2)),
            flag_at=int(rule.get("flag_at", 3)),
        )
        for mid, ms in absent.items()
    }
    flagged_ids = [mid for mid, v in verdicts.items() if v.level >= 2]
    names = dict(
        session.execute(select(Member.id, Member.full_name).where(Member.id.in_(flagged_ids)))
        .tuples()
        .all()
    )
    models = list(
        session.scalars(
            select(StudyModel.title).where(
                StudyModel.org_id == cell,
                StudyModel.year == ctx.period.year,
                StudyModel.deleted_at.is_(None),
            )
        )
    )
    considered: int | None = 0
    if started:
        idx = CandidateConsideration.year * 12 + CandidateConsideration.month
        considered = session.scalar(
            select(func.count(CandidateConsideration.id)).where(
                CandidateConsideration.org_id == cell,
                CandidateConsideration.year >= started[0][0],
                CandidateConsideration.year <= started[-1][0],
                idx >= started[0][0] * 12 + started[0][1],
                idx <= started[-1][0] * 12 + started[-1][1],
            )
        )
    stages = candidate_counts(session, [cell]).get(cell, {})
    held = sorted(ym for ym in meet.regular_months if ym in set(started))
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
        "regular_held": len(held),
        "months_missing": [f"{y}-{m:02d}" for y, m in started if (y, m) not in set(held)],
        "thematic_quarters": len(thematic_quarters),
        "quarters": len(quarters),
        "meetings": meet.meetings,
        "superior_visits": meet.superior_visits,
        "present": meet.present,
        "required": meet.required,
        "excused": meet.excused,
        "unexcused": meet.unexcused,
        "flagged": [
            {"name": names.get(mid, ""), "months": list(verdicts[mid].months)}
            for mid in sorted(flagged_ids, key=lambda i: names.get(i, ""))
        ],
        "warned": sum(1 for v in verdicts.values() if v.level == 1),
        "reviews_due": sum(to_review.get(ym, 0) for ym in started),
        "reviews_done": sum(sum(c.values()) for c in done.values()),
        "new_signs": {g.value: by_group.get(g, 0) for g in SignGroup},
        "study_models": models,
        "considerations": int(considered or 0),
        "candidates": dict(sorted(stages.items(), key=lambda kv: stage_order(kv[0]))),
    }


PLAN_ANNUAL = reports.ReportKind(
    code=PLAN_KIND,
    title=N_("Annual report on carrying out the plan"),
    schedule=reports.ANNUAL,
    recipient_roles=frozenset({Role.ORGANIZATION}),  # to the Standing Board via it
    draft=draft_plan_annual,
    rule_source=RULE_SOURCE_PLAN,
    notify_msgid=N_(
        "📥 {cell} submitted its annual report on carrying out the plan for {year} on {date}."
    ),
    renotify_msgid=N_(
        "📥 {cell} submitted a corrected annual report on carrying out the plan for {year} "
        "on {date}."
    ),
    # TRANSLATORS: short name of the annual plan report on a button, before the period
    short=N_("Plan"),
)


#: The figures of the plan report that add up across cells in the roll-up.
PLAN_SUMS = (
    "months_started",
    "regular_held",
    "thematic_quarters",
    "quarters",
    "meetings",
    "superior_visits",
    "present",
    "required",
    "excused",
    "unexcused",
    "warned",
    "reviews_due",
    "reviews_done",
    "considerations",
)


@dataclass
class PlanRollup:
    """The Khối's roll-up of the submitted annual plan reports of a year."""

    year: int
    due_on: date
    cells: int
    on_time: list[tuple[str, str]]  # (code, name)
    late: list[tuple[str, str]]
    missing: list[tuple[str, str]]
    not_due: list[tuple[str, str]]
    totals: dict[str, int]
    new_signs: dict[str, int]
    flagged: int
    with_model: int
    today: date

    @property
    def submitted(self) -> int:
        """Reports submitted (on time or late)."""
        return len(self.on_time) + len(self.late)


def plan_rollup(session: Session, *, scope: Scope, year: int, today: date) -> PlanRollup:
    """Add up the figures the cells in ``scope`` submitted in their plan reports for ``year``
    (the snapshots taken at submission), and list who is on time, late or missing."""
    kind = PLAN_ANNUAL
    period = Period("year", year)
    cells = list(scope.cell_ids)
    rows = reports.status_rows(session, cells, kind, period, today=today)
    states: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        states[row.state.value].append((row.code, row.name))
    snapshots = session.scalars(
        select(Report.figures).where(
            among(session, Report.org_id, cells),
            Report.kind == kind.code,
            Report.period == period.key,
            Report.status == ReportStatus.SUBMITTED,
        )
    ).all()
    totals = dict.fromkeys(PLAN_SUMS, 0)
    signs = {g.value: 0 for g in SignGroup}
    flagged = with_model = 0
    for fig in snapshots:
        for key in PLAN_SUMS:
            totals[key] += int(fig.get(key, 0) or 0)
        for group, n in (fig.get("new_signs") or {}).items():
            signs[group] = signs.get(group, 0) + int(n or 0)
        flagged += len(fig.get("flagged") or [])
        with_model += bool(fig.get("study_models"))
    return PlanRollup(
        year=year,
        due_on=reports.due_on(session, kind, period),
        cells=len(cells),
        on_time=states["on_time"],
        late=states["late"],
        missing=states["missing"],
        not_due=states["not_due"],
        totals=totals,
        new_signs=signs,
        flagged=flagged,
        with_model=with_model,
        today=today,
    )
