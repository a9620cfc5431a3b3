"""The summary as a Word report in the Party's layout (:func:`documents.layout.party_document`).

Vietnamese whatever the reader's chat language (callers pass ``translator("vi")``).

The report is declared: :data:`SECTIONS` lists its sections in order, each a heading and the
functions that give its paragraphs and tables; the tables are column specs (header, width, the
text of a row). :func:`to_docx` is the small writer that assembles them under the Party's header,
recipients and signature.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from documents import pipeline as pipeline_doc
from documents.layout import DocHeader, DocSection, DocTable, Signature, party_document
from documents.report_parts import GROUP_LABELS, signing_block
from documents.summary_words import (
    assignment_intro,
    assignment_rows,
    in_progress_text,
    month_list,
    period_title,
    priority_name,
    rate_text,
    report_kind_short,
    report_period_name,
    stage_name,
    three_months_text,
)
from domain.i18n import N_, Translator
from storage.models import OrgKind, SignGroup
from storage.summary import CellRow, DocumentMeta, Figures, Group, Summary

#: Cells listed one by one in the Word report up to this many (the workbook has them all).
DOC_CELL_ROWS_MAX = 60


# --- The declarations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Ctx:
    """What a section needs: the summary, the translator, the issuer."""

    s: Summary
    t: Translator
    meta: DocumentMeta

    def _(self, msgid: str) -> str:
        return self.t.gettext(msgid)

    def n(self, value: int) -> str:
        return self.t.number(value)

    @property
    def one_cell(self) -> bool:
        """The report covers a single cell: it speaks of "the cell", lists no one-row tables."""
        return len(self.s.cells) == 1


@dataclass(frozen=True)
class Col:
    """A table column: header msgid, width in cm, the text of a row."""

    header: str
    width: float
    text: Callable[[Any, Ctx], str]


@dataclass(frozen=True)
class Table:
    """A table declared by its columns."""

    columns: tuple[Col, ...]

    def build(self, rows: Sequence[Any], c: Ctx, extra: Sequence[list[str]] = ()) -> DocTable:
        """The table of ``rows`` (plus ready-made ``extra`` rows at the end)."""
        return DocTable(
            [c._(col.header) for col in self.columns],
            [[col.text(row, c) for col in self.columns] for row in rows] + list(extra),
            [col.width for col in self.columns],
        )


@dataclass(frozen=True)
class Section:
    """A numbered section: heading msgid, its paragraphs and tables, and whether it appears."""

    title: str
    paragraphs: Callable[[Ctx], list[str]]
    tables: Callable[[Ctx], list[DocTable]] = field(default=lambda c: [])
    shown: Callable[[Ctx], bool] = field(default=lambda c: True)


def _cell(r: CellRow) -> str:
    return f"{r.name} ({r.code})"


def _ratio(done: int, due: int) -> str:
    return f"{done}/{due}"


# 1. General situation


def _general(c: Ctx) -> list[str]:
    _, t, f = c._, c.t, c.s.total
    if c.one_cell:
        return _general_one_cell(c)
    out = [
        _(
            "The report covers {cells}, with {members} on the roll ({required} required to "
            "attend meetings; {exempt} exempt from party activity)."
        ).format(
            cells=t.ngettext("{n} party cell", "{n} party cells", f.cells).format(n=c.n(f.cells)),
            members=t.ngettext("{n} party member", "{n} party members", f.members).format(
                n=c.n(f.members)
            ),
            required=c.n(f.required_members),
            exempt=c.n(f.members - f.required_members),
        ),
    ]
    if not c.s.has_data:
        out.append(_("No records were entered for this period."))
    return out


def _general_one_cell(c: Ctx) -> list[str]:
    _, t, f = c._, c.t, c.s.total
    if not f.members:
        text = _("The cell has no member on the roll.")
    else:
        text = _("The cell has {members} on the roll; {required} are required to attend meetings.")
        text = text.format(
            members=t.ngettext("{n} party member", "{n} party members", f.members).format(
                n=c.n(f.members)
            ),
            required=c.n(f.required_members),
        )
        exempt = f.members - f.required_members
        if exempt:
            text += " " + t.ngettext(
                "{n} member is exempt from party activity.",
                "{n} members are exempt from party activity.",
                exempt,
            ).format(n=c.n(exempt))
    out = [text]
    if not c.s.has_data:
        out.append(_("No records were entered for this period."))
    return out


# 2. Cell meetings

MISSING_MEETINGS = Table(
    (
        Col(N_("No."), 1.2, lambda ir, c: str(ir[0])),
        Col(N_("Cell"), 9.8, lambda ir, c: _cell(ir[1])),
        Col(
            N_("Months without a regular meeting"),
            5.5,
            lambda ir, c: month_list(ir[1].missing_months, c.t),
        ),
    )
)


def _regular_one_cell(c: Ctx) -> str:
    _, f = c._, c.s.total
    row = c.s.cells[0]
    if not row.missing_months:
        return _("Regular meetings: held in every month ({held} of {due}).").format(
            held=c.n(f.regular_held), due=c.n(f.regular_due)
        )
    return _("Regular meetings: held in {held} of {due} months; not held in {months}.").format(
        held=c.n(f.regular_held),
        due=c.n(f.regular_due),
        months=month_list(row.missing_months, c.t),
    )


def _meetings(c: Ctx) -> list[str]:
    _, t, s, f = c._, c.t, c.s, c.s.total
    out = [
        _regular_one_cell(c)
        if c.one_cell
        else _(
            "Regular meetings: held in {held} of {due} cell-months ({rate}); {missing} did not "
            "hold one in every month."
        ).format(
            held=c.n(f.regular_held),
            due=c.n(f.regular_due),
            rate=rate_text(t, f.regular_held, f.regular_due),
            missing=t.ngettext("{n} cell", "{n} cells", f.cells_missing_regular).format(
                n=c.n(f.cells_missing_regular)
            ),
        )
        + (" " + in_progress_text(t, f.regular_in_progress) if f.regular_in_progress else ""),
        _(
            "Attendance: {present} of {required} required attendances ({rate}); {excused} "
            "absent with a valid reason and {unexcused} without."
        ).format(
            present=c.n(f.present),
            required=c.n(f.required),
            rate=t.percent(f.attendance_rate),
            excused=c.n(f.excused),
            unexcused=c.n(f.unexcused),
        ),
        three_months_text(t, f.flagged, f.warned),
        # Members to be considered for removal go to the Organization Board by name.
        *[
            "- "
            + _("{name} ({cell}): months {months}").format(
                name=m.name,
                cell=m.cell_code,
                months=", ".join(f"{x:02d}" for x in m.months) + f"/{s.period.year}",
            )
            for m in s.flagged
        ],
        _("Superior committee members attended {visits} of {meetings} meetings held.").format(
            visits=c.n(f.superior_visits), meetings=c.n(f.meetings)
        ),
        (
            _("Thematic meetings: held in {held} of {due} quarters.")
            if c.one_cell
            else _("Thematic meetings: held in {held} of {due} cell-quarters.")
        ).format(held=c.n(f.thematic_held), due=c.n(f.thematic_due)),
    ]
    missing = s.cells_missing_regular
    if c.one_cell:
        pass  # the months are named in the first line
    elif len(missing) > DOC_CELL_ROWS_MAX:
        out.append(
            _(
                "Cells that did not hold a regular meeting every month (the first {shown} of "
                "{n}; the full list is in the Excel workbook):"
            ).format(shown=DOC_CELL_ROWS_MAX, n=c.n(len(missing)))
        )
    elif missing:
        out.append(_("Cells that did not hold a regular meeting every month:"))
    if s.assignments:
        out.append(assignment_intro(s, t))
    return out


def _meeting_tables(c: Ctx) -> list[DocTable]:
    missing = c.s.cells_missing_regular
    tables = []
    if not (c.one_cell or not missing or len(missing) > DOC_CELL_ROWS_MAX):
        tables.append(
            MISSING_MEETINGS.build(list(enumerate(missing[:DOC_CELL_ROWS_MAX], start=1)), c)
        )
    if c.s.assignments:
        tables.append(
            DocTable(
                [
                    c._("Cell"),
                    c._("Assigned superior committee member"),
                    c._("Visits"),
                    c._("Meetings"),
                ],
                assignment_rows(c.s),
            )
        )
    return tables


# 3. Commitment reviews and signs of degradation


def _commitments(c: Ctx) -> list[str]:
    _, t, f = c._, c.t, c.s.total
    signs = ", ".join(
        f"{t.gettext(GROUP_LABELS[g])}: {c.n(f.new_signs.get(g.value, 0))}" for g in SignGroup
    )
    return [
        _("Monthly commitment reviews: {done} of {due} member-months ({rate}).").format(
            done=c.n(f.reviews_done),
            due=c.n(f.reviews_due),
            rate=rate_text(t, f.reviews_done, f.reviews_due),
        ),
        _("New signs of degradation found: {n} ({groups}).").format(
            n=c.n(f.new_signs_total), groups=signs
        )
        if f.new_signs_total
        else _("No new sign of degradation was found."),
    ]


# 4. Developing party membership


def _candidates(c: Ctx) -> list[str]:
    _, t, s, f = c._, c.t, c.s, c.s.total
    if not s.candidates.tracked:
        return [
            _("Candidates are not yet tracked in chibo; no figures are reported."),
            *pipeline_doc.doc_paragraphs(s.pipeline, t),
        ]
    return [
        _("Candidates followed: {n}; by stage: {stages}.").format(
            n=c.n(f.candidates),
            stages="; ".join(
                f"{stage_name(k, t)} {c.n(v)}" for k, v in s.candidates.by_stage.items()
            )
            or "—",
        ),
        _("By priority group: {groups}.").format(
            groups="; ".join(
                f"{priority_name(k, t)} {c.n(v)}" for k, v in s.candidates.by_group.items()
            )
            or "—"
        ),
        _("Sympathizer list considered in {done} of {due} cell-months.").format(
            done=c.n(f.considerations_done), due=c.n(f.considerations_due)
        ),
        *pipeline_doc.doc_paragraphs(s.pipeline, t),
    ]


# 5. Reporting


@dataclass(frozen=True)
class Lagging:
    """A cell or grassroots committee that submitted late or not at all."""

    code: str
    name: str
    late: int
    missing: list[str]


def _lagging(c: Ctx) -> list[Lagging]:
    behind: dict[str, list[str]] = {}
    late_count: dict[str, int] = {}
    names = {r.org_code: r.org_name for r in c.s.reports}
    for r in c.s.reports:
        if r.state == "missing":
            behind.setdefault(r.org_code, []).append(
                f"{report_kind_short(r.kind, c.t)} {report_period_name(r.period, c.t)}"
            )
        elif r.state == "late":
            late_count[r.org_code] = late_count.get(r.org_code, 0) + 1
    return [
        Lagging(code, names[code], late_count.get(code, 0), behind.get(code, []))
        for code in sorted(set(behind) | set(late_count))
    ]


LAGGING = Table(
    (
        Col(N_("No."), 1.2, lambda ir, c: str(ir[0])),
        Col(N_("Organization"), 6.3, lambda ir, c: f"{ir[1].name} ({ir[1].code})"),
        Col(N_("Late"), 1.6, lambda ir, c: c.n(ir[1].late)),
        Col(N_("Not submitted"), 7.4, lambda ir, c: "; ".join(ir[1].missing) or "—"),
    )
)


def _reporting(c: Ctx) -> list[str]:
    _, f = c._, c.s.total
    lagging = _lagging(c)
    out = [
        _(
            "Reports due in the period: {due}; on time {on_time}, late {late}, missing {missing}."
        ).format(
            due=c.n(f.reports_due),
            on_time=c.n(f.reports_on_time),
            late=c.n(f.reports_late),
            missing=c.n(f.reports_missing),
        )
    ]
    if c.one_cell:
        for line in lagging:
            if line.late:
                out.append(
                    c.t.ngettext(
                        "{n} report was submitted late.",
                        "{n} reports were submitted late.",
                        line.late,
                    ).format(n=c.n(line.late))
                )
            if line.missing:
                out.append(_("Not submitted: {reports}.").format(reports="; ".join(line.missing)))
    elif len(lagging) > DOC_CELL_ROWS_MAX:
        out.append(
            _(
                "Party organizations that submitted late or have not submitted (the first "
                "{shown} of {n}; the full list is in the Excel workbook):"
            ).format(shown=DOC_CELL_ROWS_MAX, n=c.n(len(lagging)))
        )
    elif lagging:
        out.append(_("Party organizations that submitted late or have not submitted:"))
    return out


def _reporting_tables(c: Ctx) -> list[DocTable]:
    lagging = _lagging(c)
    if c.one_cell or not lagging:
        return []
    return [LAGGING.build(list(enumerate(lagging[:DOC_CELL_ROWS_MAX], start=1)), c)]


# 6. Studying and following Uncle Hồ


def _model(c: Ctx) -> list[str]:
    without = c.s.cells_without_model
    year = c.s.period.year
    if c.one_cell:
        if without:
            return [c._("The cell has not registered a study model for {year}.").format(year=year)]
        return [c._("The cell has registered its study model for {year}.").format(year=year)]
    if not without:
        return [c._("Every cell has registered a study model for {year}.").format(year=year)]
    return [
        c._("{n} have no study model registered for {year}{colon}").format(
            n=c.t.ngettext("{n} cell", "{n} cells", len(without)).format(n=c.n(len(without))),
            year=c.s.period.year,
            colon=": " + "; ".join(_cell(r) for r in without) if without else "",
        )
        + "."
    ]


# 7. Figures by organization type (and 8. by cell)


def _figure_row(name: str, f: Figures, c: Ctx) -> list[str]:
    return [
        name,
        c.n(f.cells),
        _ratio(f.regular_held, f.regular_due),
        c.t.percent(f.attendance_rate),
        rate_text(c.t, f.reviews_done, f.reviews_due),
        c.n(f.reports_missing),
    ]


BY_TYPE = Table(
    (
        Col(N_("Organization type"), 5.6, lambda g, c: g.name(c.t.locale)),
        Col(N_("Number of cells"), 1.6, lambda g, c: c.n(g.figures.cells)),
        Col(
            N_("Regular meetings"),
            2.6,
            lambda g, c: _ratio(g.figures.regular_held, g.figures.regular_due),
        ),
        Col(N_("Attendance"), 2.4, lambda g, c: c.t.percent(g.figures.attendance_rate)),
        Col(
            N_("Reviews"),
            2.2,
            lambda g, c: rate_text(c.t, g.figures.reviews_done, g.figures.reviews_due),
        ),
        Col(N_("Reports missing"), 2.1, lambda g, c: c.n(g.figures.reports_missing)),
    )
)


def _by_type_notes(c: Ctx) -> list[str]:
    if len(c.s.cells) > DOC_CELL_ROWS_MAX:
        return [
            c._("The figures of each cell are in the Excel workbook exported with this report.")
        ]
    return []


def _by_type_tables(c: Ctx) -> list[DocTable]:
    # A type whose only figures are a committee's own reports still has its row: the rows add up
    # to the total.
    groups: list[Group] = [g for g in c.s.by_type if g.cell_ids or g.figures.reports_due]
    return [BY_TYPE.build(groups, c, [_figure_row(c._("Total"), c.s.total, c)])]


BY_CELL = Table(
    (
        Col(N_("Cell"), 6.2, lambda r, c: _cell(r)),
        Col(
            N_("Regular meetings"),
            2.3,
            lambda r, c: _ratio(r.figures.regular_held, r.figures.regular_due),
        ),
        Col(N_("Attendance"), 2.3, lambda r, c: c.t.percent(r.figures.attendance_rate)),
        Col(
            N_("Thematic"),
            1.9,
            lambda r, c: _ratio(r.figures.thematic_held, r.figures.thematic_due),
        ),
        Col(
            N_("Reviews"), 2.3, lambda r, c: _ratio(r.figures.reviews_done, r.figures.reviews_due)
        ),
        Col(N_("Model"), 1.5, lambda r, c: c._("yes") if r.has_model else c._("no")),
    )
)

#: The report's sections, in order.
SECTIONS: tuple[Section, ...] = (
    Section(N_("General situation"), _general),
    Section(N_("Cell meetings"), _meetings, _meeting_tables),
    Section(N_("Commitment reviews and signs of degradation"), _commitments),
    Section(N_("Developing party membership"), _candidates),
    Section(N_("Reporting"), _reporting, _reporting_tables),
    Section(N_("Studying and following Uncle Hồ"), _model),
    Section(
        N_("Figures by organization type"),
        _by_type_notes,
        _by_type_tables,
        # A table by type says something only when the cells are of two types or more.
        shown=lambda c: sum(1 for g in c.s.by_type if g.cell_ids) > 1,
    ),
    Section(
        N_("Figures by cell"),
        lambda c: [],
        lambda c: [BY_CELL.build(c.s.cells, c)],
        shown=lambda c: 1 < len(c.s.cells) <= DOC_CELL_ROWS_MAX,
    ),
)


# --- The writer --------------------------------------------------------------------------------


def to_docx(s: Summary, t: Translator, meta: DocumentMeta) -> bytes:
    """The summary as a report in the Party's layout (documents.layout.party_document)."""
    c = Ctx(s, t, meta)
    _ = t.gettext
    title_period = period_title(s.period, t)
    return party_document(
        t=t,
        header=DocHeader(
            superior=meta.superior,
            issuer=meta.issuer,
            # TRANSLATORS: the number is left blank for the office's register; {abbr} is the
            # issuer's abbreviation (ĐUK, ĐU, CB)
            number=_("No.      -BC/{abbr}").format(abbr=meta.abbreviation),
            place=meta.place,
            day=s.today,
        ),
        title=_("Report"),
        subject=_("Results of party-cell activity, {period}").format(period=title_period),
        sections=[
            DocSection(_(sec.title), sec.paragraphs(c), sec.tables(c))
            for sec in SECTIONS
            if sec.shown(c)
        ],
        recipients=recipients(meta, t),
        signature=signature(meta, t),
        intro=_(
            "Carrying out Plan 12-KH/ĐUK on the key party-building tasks, {issuer} reports the "
            "results of party-cell activity in {period}, from the records kept in chibo up to "
            "{date}, as follows:"
        ).format(issuer=meta.issuer, period=title_period, date=t.date(s.upto)),
    )


def recipients(meta: DocumentMeta, t: Translator) -> list[str]:
    """The "Nơi nhận" block, by who issues the report."""
    _ = t.gettext
    if meta.kind is OrgKind.TOP:
        return [
            _("Standing Board of the {org} (to report);").format(org=meta.superior_short),
            _("Members of the Standing Board;"),
            _("Organization Board, Inspection Committee;"),
            _("Grassroots party organizations;"),
            _("Filed at the office."),
        ]
    if meta.kind is OrgKind.COMMITTEE:
        return [
            _("Standing Board of the {org} (via the Organization Board);").format(
                org=meta.superior_short
            ),
            _("Cells under the committee;"),
            _("Filed at the office."),
        ]
    return [
        _("{org} (to report);").format(org=meta.superior_short),
        _("Filed at the cell."),
    ]


def signature(meta: DocumentMeta, t: Translator) -> Signature:
    """The signing block, by who issues the report (:mod:`storage.doc_names`)."""
    return signing_block(t, meta.signer)
