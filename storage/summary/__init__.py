"""The Khối's summary: who sees what, and the figures of a period over that scope.

Scope follows the role (DOMAIN.md, "Organizations and people"): a leader on the top organization
sees every cell; a grassroots party committee's secretary the cells of that committee; a cell's
secretary, deputy, committee member or the superior committee member who follows it, that cell.
A :class:`Subject` narrows the scope (one organization type, one party committee, one cell) and
is checked against the scope every time, so button data is never trusted.

Figures come from SQL aggregates: the per-cell meeting figures of :mod:`storage.figures` (the
shared query layer) plus the aggregates of :mod:`storage.summary.counts` (thematic meetings by
quarter, reviews, candidates, reports, month-by-month figures). Nothing is counted by loading
rows into Python; Python only adds up per-cell rows into totals and groups.

The package, by section: :mod:`.scope` (who sees what), :mod:`.model` (the figures and lines),
:mod:`.cells` (the months and quarters a cell owes), :mod:`.counts` (aggregates),
:mod:`.reporting` (reports due), :mod:`.breakdowns`, :mod:`.build` (the use case),
:mod:`.cell_year`, :mod:`.chart`, :mod:`.plan` (the annual plan report) and :mod:`.document`
(the Word report's header). The names callers use are re-exported here.
"""

from storage.summary.breakdowns import groups_by_committee, groups_by_type
from storage.summary.build import build_summary, summary_for
from storage.summary.cell_year import CellYear, MonthLine, cell_year
from storage.summary.cells import counted_quarters, elapsed_months
from storage.summary.chart import ChartData, Series, chart_data
from storage.summary.counts import review_counts
from storage.summary.document import DocumentMeta, Seen, audit_seen, audit_view, document_meta
from storage.summary.model import (
    CANDIDATE_STAGES,
    DEFAULT_TZ,
    PRIORITY_GROUPS,
    RULE_SOURCE_MODEL,
    RULE_SOURCE_REGULAR,
    RULE_SOURCE_REVIEWS,
    RULE_SOURCE_THEMATIC,
    CandidateFigures,
    CellRow,
    Figures,
    FuturePeriod,
    Group,
    MemberLine,
    ReportLine,
    Summary,
)
from storage.summary.plan import (
    PLAN_ANNUAL,
    PLAN_KIND,
    PLAN_SUMS,
    RULE_SOURCE_PLAN,
    PlanRollup,
    draft_plan_annual,
    plan_rollup,
)
from storage.summary.reporting import report_figures, report_obligations
from storage.summary.roll import CellRoll, cell_rolls, roll_counts
from storage.summary.scope import (
    Scope,
    Subject,
    SubjectInfo,
    resolve_subject,
    scope_of,
    scope_under,
)

__all__ = [
    "CANDIDATE_STAGES",
    "DEFAULT_TZ",
    "PLAN_ANNUAL",
    "PLAN_KIND",
    "PLAN_SUMS",
    "PRIORITY_GROUPS",
    "RULE_SOURCE_MODEL",
    "RULE_SOURCE_PLAN",
    "RULE_SOURCE_REGULAR",
    "RULE_SOURCE_REVIEWS",
    "RULE_SOURCE_THEMATIC",
    "CandidateFigures",
    "CellRoll",
    "CellRow",
    "CellYear",
    "ChartData",
    "DocumentMeta",
    "Figures",
    "FuturePeriod",
    "Group",
    "MemberLine",
    "MonthLine",
    "PlanRollup",
    "ReportLine",
    "Scope",
    "Seen",
    "Series",
    "Subject",
    "SubjectInfo",
    "Summary",
    "audit_seen",
    "audit_view",
    "build_summary",
    "cell_rolls",
    "cell_year",
    "chart_data",
    "counted_quarters",
    "document_meta",
    "draft_plan_annual",
    "elapsed_months",
    "groups_by_committee",
    "groups_by_type",
    "plan_rollup",
    "report_figures",
    "report_obligations",
    "resolve_subject",
    "review_counts",
    "roll_counts",
    "scope_of",
    "scope_under",
    "summary_for",
]
