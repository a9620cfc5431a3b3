"""The summary as an Excel workbook: an overview and one sheet per topic, one row per cell.

Files are for printing and forwarding, so they are Vietnamese whatever the reader's chat
language (callers pass ``translator("vi")``). A value a person typed is always text, never a
formula.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from io import BytesIO
from typing import Any

from documents.report_parts import GROUP_LABELS, STATE_LABELS
from documents.summary_words import (
    month_list,
    period_title,
    priority_name,
    report_kind_name,
    report_period_name,
    stage_name,
    subject_name,
)
from domain.i18n import Translator
from domain.rules.reviews import ReportState
from storage.models import SignGroup
from storage.summary import (
    CellRow,
    Summary,
)


def _put(ws: Any, row: int, col: int, value: Any) -> Any:
    """Write a value; a string is always text (never a formula, whatever it starts with)."""
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store "=…" as a formula
    if isinstance(value, date):
        cell.number_format = "DD/MM/YYYY"
    return cell


@dataclass
class _Col:
    header: str
    width: int = 10
    fmt: str | None = None  # number format


def _sheet(
    wb: Any,
    title: str,
    columns: list[_Col],
    rows: list[list[Any]],
    totals: list[Any] | None,
    t: Translator,
) -> Any:
    """One topic: bold frozen header, one row per line, a totals row, filters, fitted widths."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(_sheet_title(title))
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    thin = Side(style="thin", color="999999")
    for c, col in enumerate(columns, start=1):
        cell = _put(ws, 1, c, col.header)
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = Border(bottom=thin)
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            cell = _put(ws, r, c, value)
            if columns[c - 1].fmt and not isinstance(value, str):
                cell.number_format = columns[c - 1].fmt
    last = len(rows) + 1
    if totals is not None:
        last += 1
        for c, value in enumerate(totals, start=1):
            cell = _put(ws, last, c, value)
            cell.font = bold
            cell.border = Border(top=thin)
            if columns[c - 1].fmt and not isinstance(value, str):
                cell.number_format = columns[c - 1].fmt
    ws.freeze_panes = "C2" if len(columns) > 2 else "A2"
    # Filter the data rows only, so sorting never moves the totals row.
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(rows) + 1, 2)}"
    for c, col in enumerate(columns, start=1):
        values = [_shown(r[c - 1], col.fmt) for r in rows]
        if totals is not None:
            values.append(_shown(totals[c - 1], col.fmt))
        words = col.header.split()
        # Headers wrap on up to three lines; the data decide the rest.
        header_need = max([len(w) for w in words] + [-(-len(col.header) // 3)])
        width = max([header_need] + [len(v) for v in values]) + 2
        ws.column_dimensions[get_column_letter(c)].width = max(col.width, min(width, 60))
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


def _ratio(done: int, due: int) -> float | None:
    return done / due if due else None


def to_xlsx(s: Summary, t: Translator) -> bytes:
    """The summary as a workbook: an overview and one sheet per topic, one row per cell."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    _ = t.gettext
    wb = Workbook()
    ov = wb.active
    assert ov is not None
    ov.title = _sheet_title(_("Overview"))
    f = s.total
    _put(ov, 1, 1, _("SUMMARY, {period}").format(period=period_title(s.period, t)).upper())
    ov.cell(row=1, column=1).font = Font(bold=True, size=14)
    _put(ov, 2, 1, subject_name(s, t))
    _put(ov, 3, 1, _("Figures as of"))
    _put(ov, 3, 2, s.upto)
    _put(ov, 4, 1, _("Generated on"))
    _put(ov, 4, 2, s.today)
    head = 6
    for c, text in enumerate((_("Figure"), _("Value"), _("Of"), _("Rate")), start=1):
        cell = _put(ov, head, c, text)
        cell.font = Font(bold=True)
    overview = [
        (_("Cells"), f.cells, None),
        (_("Members on the roll"), f.members, None),
        (_("Members required to attend"), f.required_members, None),
        (_("Regular meetings held (cell-months)"), f.regular_held, f.regular_due),
        (_("Cells missing a regular meeting"), f.cells_missing_regular, f.cells),
        (_("Present at regular meetings"), f.present, f.required),
        (_("Absences with a valid reason"), f.excused, None),
        (_("Absences without a valid reason"), f.unexcused, None),
        (_("Members flagged (three-months rule)"), f.flagged, None),
        (_("Members warned (two months)"), f.warned, None),
        (_("Meetings attended by a superior committee member"), f.superior_visits, f.meetings),
        (_("Thematic meetings held (cell-quarters)"), f.thematic_held, f.thematic_due),
        (_("Commitment reviews done"), f.reviews_done, f.reviews_due),
        (_("New signs of degradation"), f.new_signs_total, None),
        (_("Candidates"), f.candidates, None),
        (
            _("Sympathizer list considered (cell-months)"),
            f.considerations_done,
            f.considerations_due,
        ),
        (_("Reports due"), f.reports_due, None),
        (_("Reports on time"), f.reports_on_time, f.reports_due),
        (_("Reports late"), f.reports_late, f.reports_due),
        (_("Reports missing"), f.reports_missing, f.reports_due),
        (_("Cells without a study model"), f.cells_without_model, f.cells),
    ]
    for r, (label, value, of) in enumerate(overview, start=head + 1):
        _put(ov, r, 1, label)
        _put(ov, r, 2, value)
        if of is not None:
            _put(ov, r, 3, of)
            rate = _ratio(value, of)
            if rate is not None:
                _put(ov, r, 4, rate).number_format = "0.0%"
    ov.freeze_panes = f"A{head + 1}"
    ov.column_dimensions["A"].width = max(len(label) for label, _v, _o in overview) + 2
    for letter in "BCD":
        ov.column_dimensions[letter].width = 12

    types = {g.code: g.name(t.locale) for g in s.by_type}
    committees = {int(g.key): g.code for g in s.by_committee}
    ident = [_Col(_("Code"), 10), _Col(_("Cell"), 24)]

    def idents(row: CellRow) -> list[Any]:
        return [row.code, row.name]

    def total_label() -> list[Any]:
        return [_("Total"), t.ngettext("{n} cell", "{n} cells", f.cells).format(n=f.cells)]

    pct = "0.0%"
    _sheet(
        wb,
        _("Meetings"),
        [
            *ident,
            _Col(_("Type"), 16),
            _Col(_("Party committee"), 12),
            _Col(_("Months due"), 8),
            _Col(_("Months held"), 8),
            _Col(_("Months missing"), 14),
            _Col(_("Meetings (all kinds)"), 9),
            _Col(_("Superior committee attended"), 10),
            _Col(_("Last meeting"), 11),
            _Col(_("Quarters due (thematic)"), 9),
            _Col(_("Quarters with a thematic meeting"), 9),
        ],
        [
            [
                *idents(r),
                types.get(r.type_code or "", "") or "",
                committees.get(r.group_id, ""),
                r.figures.regular_due,
                r.figures.regular_held,
                month_list(r.missing_months, t),
                r.figures.meetings,
                r.figures.superior_visits,
                r.last_held,
                r.figures.thematic_due,
                r.figures.thematic_held,
            ]
            for r in s.cells
        ],
        [
            *total_label(),
            "",
            "",
            f.regular_due,
            f.regular_held,
            t.ngettext(
                "{n} cell missing one", "{n} cells missing one", f.cells_missing_regular
            ).format(n=f.cells_missing_regular),
            f.meetings,
            f.superior_visits,
            None,
            f.thematic_due,
            f.thematic_held,
        ],
        t,
    )
    _sheet(
        wb,
        _("Attendance"),
        [
            *ident,
            _Col(_("Members on the roll"), 9),
            _Col(_("Required (attendances)"), 10),
            _Col(_("Present"), 8),
            _Col(_("Absent with reason"), 9),
            _Col(_("Absent without reason"), 9),
            _Col(_("Attendance rate"), 9, pct),
            _Col(_("Flagged (3 months)"), 9),
            _Col(_("Warned (2 months)"), 9),
        ],
        [
            [
                *idents(r),
                r.figures.members,
                r.figures.required,
                r.figures.present,
                r.figures.excused,
                r.figures.unexcused,
                r.figures.attendance_rate,
                r.figures.flagged,
                r.figures.warned,
            ]
            for r in s.cells
        ],
        [
            *total_label(),
            f.members,
            f.required,
            f.present,
            f.excused,
            f.unexcused,
            f.attendance_rate,
            f.flagged,
            f.warned,
        ],
        t,
    )
    _sheet(
        wb,
        _("Commitments"),
        [
            *ident,
            _Col(_("Reviews due (member-months)"), 10),
            _Col(_("Reviews done"), 9),
            _Col(_("Rate"), 8, pct),
            *[_Col(t.gettext(GROUP_LABELS[g]), 14) for g in SignGroup],
        ],
        [
            [
                *idents(r),
                r.figures.reviews_due,
                r.figures.reviews_done,
                _ratio(r.figures.reviews_done, r.figures.reviews_due),
                *[r.figures.new_signs.get(g.value, 0) for g in SignGroup],
            ]
            for r in s.cells
        ],
        [
            *total_label(),
            f.reviews_due,
            f.reviews_done,
            _ratio(f.reviews_done, f.reviews_due),
            *[f.new_signs.get(g.value, 0) for g in SignGroup],
        ],
        t,
    )
    stages = list(s.candidates.by_stage)
    _sheet(
        wb,
        _("Candidates"),
        [
            *ident,
            _Col(_("Months due (list consideration)"), 10),
            _Col(_("Months considered"), 10),
            _Col(_("Candidates"), 10),
        ],
        [
            [
                *idents(r),
                r.figures.considerations_due,
                r.figures.considerations_done,
                r.figures.candidates,
            ]
            for r in s.cells
        ],
        [*total_label(), f.considerations_due, f.considerations_done, f.candidates],
        t,
    )
    if stages or s.candidates.by_group:
        ws = wb[_sheet_title(_("Candidates"))]
        row = ws.max_row + 2
        _put(ws, row, 1, _("By stage")).font = Font(bold=True)
        for stage in stages:
            row += 1
            _put(ws, row, 1, stage_name(stage, t))
            _put(ws, row, 3, s.candidates.by_stage[stage])
        row += 2
        _put(ws, row, 1, _("By priority group")).font = Font(bold=True)
        for group, n in s.candidates.by_group.items():
            row += 1
            _put(ws, row, 1, priority_name(group, t))
            _put(ws, row, 3, n)
    elif not s.candidates.tracked:
        ws = wb[_sheet_title(_("Candidates"))]
        _put(ws, ws.max_row + 2, 1, _("Candidates are not yet tracked in chibo."))
    _sheet(
        wb,
        _("Reports"),
        [
            *ident,
            _Col(_("Due"), 7),
            _Col(_("On time"), 8),
            _Col(_("Late"), 7),
            _Col(_("Missing"), 8),
            _Col(_("Due today"), 8),
        ],
        [
            [
                *idents(r),
                r.figures.reports_due,
                r.figures.reports_on_time,
                r.figures.reports_late,
                r.figures.reports_missing,
                r.figures.reports_pending,
            ]
            for r in s.cells
        ],
        [
            *total_label(),
            f.reports_due,
            f.reports_on_time,
            f.reports_late,
            f.reports_missing,
            f.reports_pending,
        ],
        t,
    )
    _sheet(
        wb,
        _("Study models"),
        [*ident, _Col(_("Model registered for {year}").format(year=s.period.year), 12)],
        [[*idents(r), _("yes") if r.has_model else _("no")] for r in s.cells],
        [*total_label(), f.cells - f.cells_without_model],
        t,
    )
    for by, title in (("type", _("By type")), ("committee", _("By committee"))):
        groups = s.by_type if by == "type" else s.by_committee
        _sheet(
            wb,
            title,
            [
                _Col(_("Code"), 10),
                _Col(_("Name"), 30),
                _Col(_("Number of cells"), 7),
                _Col(_("Regular meetings held"), 9),
                _Col(_("Regular meetings due"), 9),
                _Col(_("Attendance rate"), 9, pct),
                _Col(_("Absent without reason"), 9),
                _Col(_("Flagged (3 months)"), 9),
                _Col(_("Thematic held"), 9),
                _Col(_("Reviews done"), 9),
                _Col(_("Reviews due"), 9),
                _Col(_("New signs"), 8),
                _Col(_("Reports missing"), 9),
                _Col(_("Without a study model"), 9),
            ],
            [
                [
                    g.code,
                    g.name(t.locale),
                    g.figures.cells,
                    g.figures.regular_held,
                    g.figures.regular_due,
                    g.figures.attendance_rate,
                    g.figures.unexcused,
                    g.figures.flagged,
                    g.figures.thematic_held,
                    g.figures.reviews_done,
                    g.figures.reviews_due,
                    g.figures.new_signs_total,
                    g.figures.reports_missing,
                    g.figures.cells_without_model,
                ]
                for g in groups
            ],
            [
                _("Total"),
                "",
                f.cells,
                f.regular_held,
                f.regular_due,
                f.attendance_rate,
                f.unexcused,
                f.flagged,
                f.thematic_held,
                f.reviews_done,
                f.reviews_due,
                f.new_signs_total,
                f.reports_missing,
                f.cells_without_model,
            ],
            t,
        )
    _sheet(
        wb,
        _("Three-months list"),
        [
            _Col(_("Full name"), 22),
            _Col(_("Cell"), 10),
            _Col(_("Months absent without reason"), 16),
            _Col(_("Level"), 12),
        ],
        [
            [
                m.name,
                m.cell_code,
                ", ".join(f"{x:02d}/{s.period.year}" for x in m.months),
                _("flagged") if m.level >= 2 else _("warned"),
            ]
            for m in s.flagged + s.warned
        ],
        None,
        t,
    )
    _sheet(
        wb,
        _("New signs list"),
        [_Col(_("Full name"), 22), _Col(_("Cell"), 10), _Col(_("Month"), 9), _Col(_("Group"), 24)],
        [
            [
                m.name,
                m.cell_code,
                t.month(s.period.year, m.months[0]),
                t.gettext(GROUP_LABELS[SignGroup(m.sign_group)]) if m.sign_group else "",
            ]
            for m in s.new_signs
        ],
        None,
        t,
    )
    _sheet(
        wb,
        _("Reports list"),
        [
            _Col(_("Code"), 10),
            _Col(_("Cell"), 24),
            _Col(_("Report"), 30),
            _Col(_("Period"), 12),
            _Col(_("Due on"), 11),
            _Col(_("Standing"), 12),
            _Col(_("Submitted on"), 11),
        ],
        [
            [
                r.org_code,
                r.org_name,
                report_kind_name(r.kind, t),
                report_period_name(r.period, t),
                r.due_on,
                t.gettext(STATE_LABELS[ReportState(r.state)]),
                r.submitted_on,
            ]
            for r in s.reports
        ],
        None,
        t,
    )
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()
