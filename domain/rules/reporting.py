"""Who drafts and submits a report: cells, and grassroots party committees for their own.

DOMAIN.md, "Deadlines": the quarterly and annual reports on remedying degradation are owed by
"each cell / grassroots org". A cell (chi bộ trực thuộc, or a chi bộ cơ sở) drafts its report
from its own monthly reviews. A grassroots party committee (đảng bộ cơ sở, led by its đảng ủy)
drafts its own from the cells under it: their figures added up, with which cells have and have
not submitted theirs. Its secretary submits and reopens it exactly as a cell's secretary does.
"""

from __future__ import annotations

from domain.vocab import OrgKind

RULE_SOURCE_COMMITTEE_REPORT = (
    "Quy định 4842-QĐ/TU; Kế hoạch 12-KH/ĐUK, mục 2.2 (chi bộ, tổ chức cơ sở đảng báo cáo; "
    "đảng ủy cơ sở tổng hợp từ báo cáo của các chi bộ trực thuộc)"
)

#: Report kinds a grassroots party committee drafts from its cells (the remedy reports). The
#: annual plan report is drafted from one cell's own records: cells only.
COMMITTEE_REPORT_KINDS = frozenset({"remedy_quarterly", "remedy_annual"})


def submits_report(org_kind: OrgKind, report_kind: str) -> bool:
    """Whether an organization of ``org_kind`` drafts, submits and reopens its own report of
    ``report_kind`` (rule: :data:`RULE_SOURCE_COMMITTEE_REPORT`)."""
    if org_kind.holds_meetings:
        return True
    return org_kind is OrgKind.COMMITTEE and report_kind in COMMITTEE_REPORT_KINDS


def drafts_from_cells(org_kind: OrgKind) -> bool:
    """Whether the report is drafted from the reports of the cells below (a committee), not
    from the organization's own reviews."""
    return org_kind is OrgKind.COMMITTEE
