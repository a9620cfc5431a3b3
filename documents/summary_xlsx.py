"""The summary as an Excel workbook: an overview and one sheet per topic, one row per cell.

Files are for printing and forwarding, so they are Vietnamese whatever the reader's chat
language (callers pass ``translator("vi")``). A value a person typed is always text, never a
formula.

The workbook is declared: :data:`OVERVIEW` lists the overview's figures and :data:`SHEETS` the
topic sheets, each a title and its columns (header, width, number format, the value of a row and
of the totals row); :func:`to_xlsx` is the small writer that lays them out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from typing import Any

from documents import pipeline as pipeline_doc
from documents.report_parts import GROUP_LABELS, STATE_LABELS
from documents.summary_words import (
    assignment_rows,
    month_list,
    owner_kind_name,
    period_title,
    priority_name,
    report_kind_name,
    report_period_name,
    stage_name,
    subject_name,
)
from domain.i18n import N_, Translator
from domain.rules.reviews import ReportState
from storage.models import SignGroup
from storage.summary import (
    CellRow,
    Figures,
    Group,
    MemberLine,
    ReportLine,
    Summary,
    report_figures,
)

# openpyxl is imported where a workbook is written: it adds about 0.2 s to the start of the bot
# and of every CLI command otherwise (python -X importtime).

PCT = "0.0%"


def _put(ws: Any, row: int, col: int, value: Any) -> Any:
    """Write a value; a string is always text (never a formula, whatever it starts with)."""
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store "=…" as a formula
    if isinstance(value, date):
        cell.number_format = "DD/MM/YYYY"
    return cell


# --- The declarations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Ctx:
    """What a column needs besides its row: the summary, the translator, lookups."""

    s: Summary
    t: Translator
    types: dict[str, str]  # type code → name
    committees: dict[int, str]  # committee id → code

    def _(self, msgid: str) -> str:
        return self.t.gettext(msgid)


@dataclass(frozen=True)
class Column:
    """One column: its header (a msgid, or a function of the context), width, number format, the
    value of a row and the value of the totals row."""

    header: str | Callable[[Ctx], str]
    width: int
    value: Callable[[Any, Ctx], Any]
    total: Callable[[Ctx], Any] = lambda c: ""
    fmt: str | None = None

    def title(self, c: Ctx) -> str:
        """The header as shown."""
        return self.header(c) if callable(self.header) else c.t.gettext(self.header)


@dataclass(frozen=True)
class Sheet:
    """One topic sheet: title msgid, columns, its rows, whether it has a totals row, and
    anything written under the table."""

    title: str
    columns: Callable[[Ctx], Sequence[Column]]
    rows: Callable[[Ctx], Sequence[Any]]
    totals: bool = True
    after: Callable[[Any, Ctx], None] | None = None


def figure(header: str, width: int, name: str, fmt: str | None = None) -> Column:
    """A column of one figure: the row's, and the whole scope's in the totals row."""
    return Column(
        header,
        width,
        lambda r, c: getattr(r.figures, name),
        lambda c: getattr(c.s.total, name),
        fmt,
    )


def ratio(done: int, due: int) -> float | None:
    """done ÷ due, or None when nothing was due."""
    return done / due if due else None


def _cells_total(c: Ctx) -> str:
    n = c.s.total.cells
    return c.t.ngettext("{n} cell", "{n} cells", n).format(n=n)


CODE = Column(N_("Code"), 10, lambda r, c: r.code, lambda c: c._("Total"))
CELL = Column(N_("Cell"), 24, lambda r, c: r.name, _cells_total)

#: The overview: (label, figure, the figure it is a share of).
OVERVIEW: tuple[tuple[str, str, str | None], ...] = (
    (N_("Cells"), "cells", None),
    (N_("Members on the roll"), "members", None),
    (N_("Members required to attend"), "required_members", None),
    (N_("Regular meetings held (cell-months)"), "regular_held", "regular_due"),
    (N_("Cells missing a regular meeting"), "cells_missing_regular", "cells"),
    (N_("Present at regular meetings"), "present", "required"),
    (N_("Absences with a valid reason"), "excused", None),
    (N_("Absences without a valid reason"), "unexcused", None),
    (N_("Members flagged (three-months rule)"), "flagged", None),
    (N_("Members warned (two months)"), "warned", None),
    (N_("Meetings attended by a superior committee member"), "superior_visits", "meetings"),
    (N_("Thematic meetings held (cell-quarters)"), "thematic_held", "thematic_due"),
    (N_("Commitment reviews done"), "reviews_done", "reviews_due"),
    (N_("New signs of degradation"), "new_signs_total", None),
    (N_("Candidates"), "candidates", None),
    (N_("Sympathizer list considered (cell-months)"), "considerations_done", "considerations_due"),
    (N_("Reports due"), "reports_due", None),
    (N_("Reports on time"), "reports_on_time", "reports_due"),
    (N_("Reports late"), "reports_late", "reports_due"),
    (N_("Reports missing"), "reports_missing", "reports_due"),
    (N_("Cells without a study model"), "cells_without_model", "cells"),
)


def _missing_total(c: Ctx) -> str:
    n = c.s.total.cells_missing_regular
    return c.t.ngettext("{n} cell missing one", "{n} cells missing one", n).format(n=n)


MEETINGS = (
    CODE,
    CELL,
    Column(N_("Type"), 16, lambda r, c: c.types.get(r.type_code or "", "") or ""),
    Column(N_("Party committee"), 12, lambda r, c: c.committees.get(r.group_id, "")),
    figure(N_("Months due"), 8, "regular_due"),
    figure(N_("Months held"), 8, "regular_held"),
    Column(
        N_("Months missing"), 14, lambda r, c: month_list(r.missing_months, c.t), _missing_total
    ),
    figure(N_("Meetings (all kinds)"), 9, "meetings"),
    figure(N_("Superior committee attended"), 10, "superior_visits"),
    Column(N_("Last meeting"), 11, lambda r, c: r.last_held, lambda c: None),
    figure(N_("Quarters due (thematic)"), 9, "thematic_due"),
    figure(N_("Quarters with a thematic meeting"), 9, "thematic_held"),
)

ATTENDANCE = (
    CODE,
    CELL,
    figure(N_("Members on the roll"), 9, "members"),
    figure(N_("Required (attendances)"), 10, "required"),
    figure(N_("Present"), 8, "present"),
    figure(N_("Absent with reason"), 9, "excused"),
    figure(N_("Absent without reason"), 9, "unexcused"),
    figure(N_("Attendance rate"), 9, "attendance_rate", PCT),
    figure(N_("Flagged (3 months)"), 9, "flagged"),
    figure(N_("Warned (2 months)"), 9, "warned"),
)


def _sign_column(g: SignGroup) -> Column:
    return Column(
        GROUP_LABELS[g],
        14,
        lambda r, c: r.figures.new_signs.get(g.value, 0),
        lambda c: c.s.total.new_signs.get(g.value, 0),
    )


COMMITMENTS = (
    CODE,
    CELL,
    figure(N_("Reviews due (member-months)"), 10, "reviews_due"),
    figure(N_("Reviews done"), 9, "reviews_done"),
    Column(
        N_("Rate"),
        8,
        lambda r, c: ratio(r.figures.reviews_done, r.figures.reviews_due),
        lambda c: ratio(c.s.total.reviews_done, c.s.total.reviews_due),
        PCT,
    ),
    *[_sign_column(g) for g in SignGroup],
)

CANDIDATES = (
    CODE,
    CELL,
    figure(N_("Months due (list consideration)"), 10, "considerations_due"),
    figure(N_("Months considered"), 10, "considerations_done"),
    figure(N_("Candidates"), 10, "candidates"),
)


@dataclass(frozen=True)
class OrgReports:
    """A row of the reports sheet: a cell, or a grassroots party committee for its own reports
    (which count in the total but in no cell's row)."""

    code: str
    name: str
    org_kind: str  # "cell" | "committee", as :attr:`storage.summary.ReportLine.org_kind`
    figures: Figures


def _report_rows(c: Ctx) -> Sequence[OrgReports]:
    """Every cell, then every committee owing its own reports: the rows add up to the total."""
    own = report_figures([line for line in c.s.reports if line.org_kind == "committee"])
    names = {line.org_id: (line.org_code, line.org_name) for line in c.s.reports}
    committees = [OrgReports(*names[oid], "committee", f) for oid, f in own.items()]
    cells = [OrgReports(r.code, r.name, "cell", r.figures) for r in c.s.cells]
    return [*cells, *sorted(committees, key=lambda r: r.code)]


def _orgs_total(c: Ctx) -> str:
    n = len(_report_rows(c))
    return c.t.ngettext("{n} organization", "{n} organizations", n).format(n=n)


REPORTS = (
    CODE,
    Column(N_("Organization"), 24, lambda r, c: r.name, _orgs_total),
    Column(N_("Organization level"), 16, lambda r, c: owner_kind_name(r.org_kind, c.t)),
    figure(N_("Due"), 7, "reports_due"),
    figure(N_("On time"), 8, "reports_on_time"),
    figure(N_("Late"), 7, "reports_late"),
    figure(N_("Missing"), 8, "reports_missing"),
    figure(N_("Due today"), 8, "reports_pending"),
)

STUDY_MODELS = (
    CODE,
    CELL,
    Column(
        lambda c: c._("Model registered for {year}").format(year=c.s.period.year),
        12,
        lambda r, c: c._("yes") if r.has_model else c._("no"),
        lambda c: c.s.total.cells - c.s.total.cells_without_model,
    ),
)

#: A breakdown by organization type or by party committee: one row per group.
GROUPS = (
    Column(N_("Code"), 10, lambda g, c: g.code, lambda c: c._("Total")),
    Column(N_("Name"), 30, lambda g, c: g.name(c.t.locale)),
    figure(N_("Number of cells"), 7, "cells"),
    figure(N_("Regular meetings held"), 9, "regular_held"),
    figure(N_("Regular meetings due"), 9, "regular_due"),
    figure(N_("Attendance rate"), 9, "attendance_rate", PCT),
    figure(N_("Absent without reason"), 9, "unexcused"),
    figure(N_("Flagged (3 months)"), 9, "flagged"),
    figure(N_("Thematic held"), 9, "thematic_held"),
    figure(N_("Reviews done"), 9, "reviews_done"),
    figure(N_("Reviews due"), 9, "reviews_due"),
    figure(N_("New signs"), 8, "new_signs_total"),
    figure(N_("Reports missing"), 9, "reports_missing"),
    figure(N_("Without a study model"), 9, "cells_without_model"),
)


def _level(m: MemberLine, c: Ctx) -> str:
    return c._("flagged") if m.level >= 2 else c._("warned")


THREE_MONTHS = (
    Column(N_("Full name"), 22, lambda m, c: m.name),
    Column(N_("Cell"), 10, lambda m, c: m.cell_code),
    Column(
        N_("Months absent without reason"),
        16,
        lambda m, c: ", ".join(f"{x:02d}/{c.s.period.year}" for x in m.months),
    ),
    Column(N_("Level"), 12, _level),
)


def _sign_group(m: MemberLine, c: Ctx) -> str:
    return c.t.gettext(GROUP_LABELS[SignGroup(m.sign_group)]) if m.sign_group else ""


NEW_SIGNS = (
    Column(N_("Full name"), 22, lambda m, c: m.name),
    Column(N_("Cell"), 10, lambda m, c: m.cell_code),
    Column(N_("Month"), 9, lambda m, c: c.t.month(c.s.period.year, m.months[0])),
    Column(N_("Group"), 24, _sign_group),
)

REPORT_LINES = (
    Column(N_("Code"), 10, lambda r, c: r.org_code),
    Column(N_("Organization"), 24, lambda r, c: r.org_name),
    Column(N_("Organization level"), 16, lambda r, c: owner_kind_name(r.org_kind, c.t)),
    Column(N_("Report"), 30, lambda r, c: report_kind_name(r.kind, c.t)),
    Column(N_("Period"), 12, lambda r, c: report_period_name(r.period, c.t)),
    Column(N_("Due on"), 11, lambda r, c: r.due_on),
    Column(N_("Standing"), 12, lambda r, c: c.t.gettext(STATE_LABELS[ReportState(r.state)])),
    Column(N_("Submitted on"), 11, lambda r, c: r.submitted_on),
)


#: Superior committee attendance per assignment: rows of :func:`assignment_rows`.
ASSIGNMENTS = (
    Column(N_("Cell"), 30, lambda r, c: r[0]),
    Column(N_("Assigned superior committee member"), 24, lambda r, c: r[1]),
    Column(N_("Visits"), 8, lambda r, c: int(r[2])),
    Column(N_("Meetings"), 8, lambda r, c: int(r[3])),
)


def _candidate_lists(ws: Any, c: Ctx) -> None:
    """Under the candidates table: the pipeline by stage and by priority group."""
    from openpyxl.styles import Font

    s = c.s
    if s.candidates.by_stage or s.candidates.by_group:
        row = ws.max_row + 2
        _put(ws, row, 1, c._("By stage")).font = Font(bold=True)
        for stage in s.candidates.by_stage:
            row += 1
            _put(ws, row, 1, stage_name(stage, c.t))
            _put(ws, row, 3, s.candidates.by_stage[stage])
        row += 2
        _put(ws, row, 1, c._("By priority group")).font = Font(bold=True)
        for group, n in s.candidates.by_group.items():
            row += 1
            _put(ws, row, 1, priority_name(group, c.t))
            _put(ws, row, 3, n)
    elif not s.candidates.tracked:
        _put(ws, ws.max_row + 2, 1, c._("Candidates are not yet tracked in chibo."))


def _cells(c: Ctx) -> Sequence[CellRow]:
    return c.s.cells


def _fixed(columns: Sequence[Column]) -> Callable[[Ctx], Sequence[Column]]:
    return lambda c: columns


def _by_type(c: Ctx) -> Sequence[Group]:
    return c.s.by_type


def _by_committee(c: Ctx) -> Sequence[Group]:
    return c.s.by_committee


def _members(c: Ctx) -> Sequence[MemberLine]:
    return [*c.s.flagged, *c.s.warned]


def _new_signs(c: Ctx) -> Sequence[MemberLine]:
    return c.s.new_signs


def _assignments(c: Ctx) -> Sequence[list[str]]:
    return assignment_rows(c.s)


def _report_lines(c: Ctx) -> Sequence[ReportLine]:
    return c.s.reports


#: The topic sheets, in order, after the overview.
SHEETS: tuple[Sheet, ...] = (
    Sheet(N_("Meetings"), _fixed(MEETINGS), _cells),
    Sheet(N_("Attendance"), _fixed(ATTENDANCE), _cells),
    Sheet(N_("Commitments"), _fixed(COMMITMENTS), _cells),
    Sheet(N_("Candidates"), _fixed(CANDIDATES), _cells, after=_candidate_lists),
    Sheet(N_("Visits by assignment"), _fixed(ASSIGNMENTS), _assignments, totals=False),
    Sheet(N_("Reports"), _fixed(REPORTS), _report_rows),
    Sheet(N_("Study models"), _fixed(STUDY_MODELS), _cells),
    Sheet(N_("By type"), _fixed(GROUPS), _by_type),
    Sheet(N_("By committee"), _fixed(GROUPS), _by_committee),
    Sheet(N_("Three-months list"), _fixed(THREE_MONTHS), _members, totals=False),
    Sheet(N_("New signs list"), _fixed(NEW_SIGNS), _new_signs, totals=False),
    Sheet(N_("Reports list"), _fixed(REPORT_LINES), _report_lines, totals=False),
)


# --- The writer --------------------------------------------------------------------------------


def to_xlsx(s: Summary, t: Translator) -> bytes:
    """The summary as a workbook: an overview and one sheet per topic, one row per cell."""
    from openpyxl import Workbook

    c = Ctx(
        s,
        t,
        types={g.code: g.name(t.locale) for g in s.by_type},
        committees={int(g.key): g.code for g in s.by_committee},
    )
    wb = Workbook()
    _overview(wb, c)
    for spec in SHEETS:
        columns = spec.columns(c)
        rows = spec.rows(c)
        ws = _sheet(
            wb,
            c._(spec.title),
            [(col.title(c), col.width, col.fmt) for col in columns],
            [[col.value(row, c) for col in columns] for row in rows],
            [col.total(c) for col in columns] if spec.totals else None,
        )
        if spec.after is not None:
            spec.after(ws, c)
    pipeline_doc.add_sheet(wb, s.pipeline, t)
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _overview(wb: Any, c: Ctx) -> None:
    """The first sheet: title, scope, dates, then each figure of :data:`OVERVIEW`."""
    from openpyxl.styles import Font

    _, s, f = c._, c.s, c.s.total
    ov = wb.active
    assert ov is not None
    ov.title = _sheet_title(_("Overview"))
    _put(ov, 1, 1, _("SUMMARY, {period}").format(period=period_title(s.period, c.t)).upper())
    ov.cell(row=1, column=1).font = Font(bold=True, size=14)
    _put(ov, 2, 1, subject_name(s, c.t))
    _put(ov, 3, 1, _("Figures as of"))
    _put(ov, 3, 2, s.upto)
    _put(ov, 4, 1, _("Generated on"))
    _put(ov, 4, 2, s.today)
    head = 6
    for col, text in enumerate((_("Figure"), _("Value"), _("Of"), _("Rate")), start=1):
        _put(ov, head, col, text).font = Font(bold=True)
    labels = []
    for r, (msgid, name, of_name) in enumerate(OVERVIEW, start=head + 1):
        label, value = _(msgid), getattr(f, name)
        labels.append(label)
        _put(ov, r, 1, label)
        _put(ov, r, 2, value)
        if of_name is not None:
            of = getattr(f, of_name)
            _put(ov, r, 3, of)
            rate = ratio(value, of)
            if rate is not None:
                _put(ov, r, 4, rate).number_format = PCT
    ov.freeze_panes = f"A{head + 1}"
    ov.column_dimensions["A"].width = max(len(label) for label in labels) + 2
    for letter in "BCD":
        ov.column_dimensions[letter].width = 12


def _sheet(
    wb: Any,
    title: str,
    columns: list[tuple[str, int, str | None]],
    rows: list[list[Any]],
    totals: list[Any] | None,
) -> Any:
    """One topic: bold frozen header, one row per line, a totals row, filters, fitted widths."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(_sheet_title(title))
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    thin = Side(style="thin", color="999999")
    for c, (header, _width, _fmt) in enumerate(columns, start=1):
        cell = _put(ws, 1, c, header)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = Border(bottom=thin)
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            cell = _put(ws, r, c, value)
            if columns[c - 1][2] and not isinstance(value, str):
                cell.number_format = columns[c - 1][2]
    last = len(rows) + 1
    if totals is not None:
        last += 1
        for c, value in enumerate(totals, start=1):
            cell = _put(ws, last, c, value)
            cell.font = bold
            cell.border = Border(top=thin)
            if columns[c - 1][2] and not isinstance(value, str):
                cell.number_format = columns[c - 1][2]
    ws.freeze_panes = "C2" if len(columns) > 2 else "A2"
    # Filter the data rows only, so sorting never moves the totals row.
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(rows) + 1, 2)}"
    for c, (header, least, fmt) in enumerate(columns, start=1):
        values = [_shown(r[c - 1], fmt) for r in rows]
        if totals is not None:
            values.append(_shown(totals[c - 1], fmt))
        words = header.split()
        # Headers wrap on up to three lines; the data decide the rest.
        header_need = max([len(w) for w in words] + [-(-len(header) // 3)])
        width = max([header_need] + [len(v) for v in values]) + 2
        ws.column_dimensions[get_column_letter(c)].width = max(least, min(width, 60))
    ws.row_dimensions[1].height = 48
    return ws


def _sheet_title(title: str) -> str:
    for ch in "[]:*?/\\":
        title = title.replace(ch, "-")
    return title[:31]


def _shown(value: Any, fmt: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return "00/00/0000"
    if isinstance(value, float) and fmt and "%" in fmt:
        return "100,0%"
    return str(value)
