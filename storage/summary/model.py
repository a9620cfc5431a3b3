"""The summary's figures and lines: what :func:`storage.summary.build.build_summary`
returns and the documents read."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from zoneinfo import ZoneInfo

from domain.errors import ChiboError
from domain.i18n import N_
from domain.rules.attendance import attendance_rate
from domain.rules.periods import Period
from storage import figures
from storage.candidates_summary import Pipeline
from storage.models import (
    OrgKind,
)
from storage.summary.scope import SubjectInfo

DEFAULT_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
RULE_SOURCE_REGULAR = "Điều lệ Đảng; Kế hoạch 12-KH/ĐUK"
RULE_SOURCE_THEMATIC = "Hướng dẫn của Trung ương về sinh hoạt chi bộ"
RULE_SOURCE_REVIEWS = "Quy định 4842-QĐ/TU, khoản 3 điều 4"
RULE_SOURCE_MODEL = "Kế hoạch 12-KH/ĐUK (mô hình học tập và làm theo Bác)"

#: Candidate stages in pipeline order (DOMAIN.md, "Candidates and admission"): code → msgid.
CANDIDATE_STAGES: dict[str, str] = {
    "sympathizer": N_("sympathizer"),
    "class_done": N_("awareness class done"),
    "mentors": N_("mentors assigned"),
    "application": N_("application filed"),
    "background_check": N_("background check"),
    "cell_resolution": N_("cell resolution"),
    "decision": N_("admission decision"),
    "probation": N_("probationary member"),
    "full_member": N_("full member"),
    "withdrawn": N_("withdrawn"),
    "not_admitted": N_("not admitted"),
    "expired": N_("file expired"),
    "not_recognized": N_("not recognized as full member"),
}
#: Priority groups named by the plan: code → msgid.
PRIORITY_GROUPS: dict[str, str] = {
    "women": N_("women"),
    "khmer": N_("Khmer"),
    "ethnic_minority": N_("other ethnic minorities"),
    "youth_union": N_("Youth Union members"),
    "association": N_("association members"),
    "worker": N_("workers and employees"),
    "private_owner": N_("private enterprise owners"),
}


class FuturePeriod(ChiboError):
    """The period starts after today: there is nothing to summarize yet."""

    message = N_("The period {period} has not started yet (today is {today}).")


# --- Figures -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Figures:
    """Figures that add up from cells to groups to the scope's total."""

    cells: int = 0
    members: int = 0  # on the roll: full, probationary, exempt
    required_members: int = 0  # full + probationary (exempt members are not counted)
    regular_due: int = 0  # cell-months
    regular_held: int = 0  # cell-months with a regular (or combined) meeting
    regular_in_progress: int = 0  # cell-months still running without a meeting (not due yet)
    cells_missing_regular: int = 0
    meetings: int = 0  # every live meeting
    superior_visits: int = 0  # meetings a superior committee member attended
    present: int = 0
    required: int = 0
    excused: int = 0
    unexcused: int = 0
    flagged: int = 0  # members at the flag level of the three-months rule
    warned: int = 0  # members at the warning level
    thematic_due: int = 0  # cell-quarters
    thematic_held: int = 0
    thematic_in_progress: int = 0  # cell-quarters still running without one (not due yet)
    cells_missing_thematic: int = 0
    reviews_due: int = 0  # member-months (required members × months)
    reviews_done: int = 0
    new_signs: dict[str, int] = field(default_factory=dict)  # sign group → reviews
    considerations_due: int = 0  # cell-months of sympathizer-list consideration
    considerations_done: int = 0
    candidates: int = 0
    reports_due: int = 0
    reports_on_time: int = 0
    reports_late: int = 0
    reports_missing: int = 0
    reports_pending: int = 0  # due today, not yet submitted (not due yet)
    cells_without_model: int = 0

    @property
    def attendance_rate(self) -> float | None:
        """Present ÷ required at regular meetings (None when nobody was required)."""
        return attendance_rate(self.present, self.required)

    @property
    def new_signs_total(self) -> int:
        """New signs of degradation found, all groups."""
        return sum(self.new_signs.values())

    def add(self, other: Figures) -> None:
        """Add ``other`` into these figures."""
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for group, n in other.new_signs.items():
            self.new_signs[group] = self.new_signs.get(group, 0) + n


#: The figures that add up as plain counts (every field but ``new_signs``).
_COUNTS = tuple(f.name for f in fields(Figures) if f.name != "new_signs")


@dataclass(slots=True)
class CellRow:
    """One cell's line of the summary."""

    id: int
    code: str
    name: str
    kind: OrgKind
    type_code: str | None
    group_id: int  # its grassroots party organization (itself for a chi bộ cơ sở)
    months_due: list[tuple[int, int]]
    months_held: list[tuple[int, int]]
    quarters_due: list[tuple[int, int]]
    quarters_held: list[tuple[int, int]]
    last_held: date | None
    has_model: bool
    figures: Figures
    # Months / quarters still running without their meeting: "chưa đến hạn", not missing.
    months_in_progress: list[tuple[int, int]] = field(default_factory=list)
    quarters_in_progress: list[tuple[int, int]] = field(default_factory=list)

    @property
    def missing_months(self) -> list[tuple[int, int]]:
        """Months due without a regular meeting."""
        held = set(self.months_held)
        return [m for m in self.months_due if m not in held]

    @property
    def missing_quarters(self) -> list[tuple[int, int]]:
        """Quarters due without a thematic meeting."""
        held = set(self.quarters_held)
        return [q for q in self.quarters_due if q not in held]


@dataclass(slots=True)
class Group:
    """A breakdown line: an organization type, or a grassroots party organization."""

    key: str  # the type code, or the organization id as text
    code: str  # the type code, or the organization code
    name_vi: str
    name_en: str
    cell_ids: list[int]
    figures: Figures

    def name(self, locale: str) -> str:
        """The name in ``locale``."""
        return self.name_en if locale == "en" else self.name_vi


@dataclass(frozen=True, slots=True)
class MemberLine:
    """A member behind a figure (three-months rule, new sign of degradation)."""

    member_id: int
    name: str
    cell_id: int
    cell_code: str
    months: tuple[int, ...] = ()
    sign_group: str | None = None
    level: int = 0


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One report owed by an organization in the period."""

    org_id: int
    org_code: str
    org_name: str
    kind: str
    period: str
    due_on: date
    state: str  # "on_time" | "late" | "missing" | "pending"
    submitted_on: date | None
    # "cell" (a chi bộ, grassroots or not) or "committee" (a đảng bộ cơ sở's own report).
    org_kind: str = "cell"


@dataclass
class CandidateFigures:
    """Candidates by stage and priority group; ``tracked`` is False while nothing is recorded."""

    tracked: bool = False
    by_stage: dict[str, int] = field(default_factory=dict)
    by_group: dict[str, int] = field(default_factory=dict)


@dataclass
class Summary:
    """The figures of one period over one subject of a scope."""

    period: Period
    today: date
    upto: date  # the last day counted: the period's end, or today if earlier
    months: list[tuple[int, int]]  # months of the period elapsed up to today
    quarters: list[tuple[int, int]]  # quarters counted for thematic meetings
    subject: SubjectInfo
    scope_sees_all: bool
    cells: list[CellRow]
    total: Figures
    by_type: list[Group]
    by_committee: list[Group]
    flagged: list[MemberLine]
    warned: list[MemberLine]
    new_signs: list[MemberLine]
    candidates: CandidateFigures
    reports: list[ReportLine]
    has_data: bool
    generated_at: datetime
    rule_sources: dict[str, str] = field(default_factory=dict)
    # Each follower assigned to a cell and their visits in the period's year up to ``upto``.
    assignments: list[figures.AssignmentVisits] = field(default_factory=list)
    # The admission pipeline's funnel, enterprises and overdue steps (storage.candidates_summary).
    pipeline: Pipeline | None = None

    @property
    def in_progress(self) -> bool:
        """The period is not over yet: figures are "so far"."""
        return self.upto < self.period.end

    def cell(self, cell_id: int) -> CellRow | None:
        """The row of one cell."""
        return next((c for c in self.cells if c.id == cell_id), None)

    @property
    def cells_missing_regular(self) -> list[CellRow]:
        """Cells with at least one month without a regular meeting."""
        return [c for c in self.cells if c.missing_months]

    @property
    def cells_missing_thematic(self) -> list[CellRow]:
        """Cells with a quarter without a thematic meeting."""
        return [c for c in self.cells if c.missing_quarters]

    @property
    def cells_without_model(self) -> list[CellRow]:
        """Cells without a Hồ Chí Minh study model registered for the year."""
        return [c for c in self.cells if not c.has_model]
