"""The summary as a Word report in the Party's layout (:func:`documents.layout.party_document`).

Vietnamese whatever the reader's chat language (callers pass ``translator("vi")``).
"""

from __future__ import annotations

from documents.layout import DocHeader, DocSection, DocTable, Signature, party_document
from documents.report_parts import GROUP_LABELS
from documents.summary_words import (
    month_list,
    period_title,
    priority_name,
    rate_text,
    report_kind_short,
    report_period_name,
    stage_name,
)
from domain.i18n import Translator
from storage.models import OrgKind, SignGroup
from storage.summary import (
    DocumentMeta,
    Summary,
)

#: Cells listed one by one in the Word report up to this many (the workbook has them all).
DOC_CELL_ROWS_MAX = 60


def to_docx(s: Summary, t: Translator, meta: DocumentMeta) -> bytes:
    """The summary as a report in the Party's layout (documents.layout.party_document)."""
    _ = t.gettext
    f = s.total
    title_period = period_title(s.period, t)
    cells_missing = s.cells_missing_regular
    intro = _(
        "Carrying out Plan 12-KH/ĐUK on the key party-building tasks, {issuer} reports the "
        "results of party-cell activity in {period}, from the records kept in chibo up to "
        "{date}, as follows:"
    ).format(issuer=meta.issuer, period=title_period, date=t.date(s.upto))

    general = DocSection(
        _("General situation"),
        [
            _(
                "The report covers {cells}, with {members} on the roll ({required} required to "
                "attend meetings; {exempt} exempt from party activity)."
            ).format(
                cells=t.ngettext("{n} party cell", "{n} party cells", f.cells).format(
                    n=t.number(f.cells)
                ),
                members=t.ngettext("{n} party member", "{n} party members", f.members).format(
                    n=t.number(f.members)
                ),
                required=t.number(f.required_members),
                exempt=t.number(f.members - f.required_members),
            ),
        ],
    )
    if not s.has_data:
        general.paragraphs.append(_("No records were entered for this period."))

    meet_paras = [
        _(
            "Regular meetings: held in {held} of {due} cell-months ({rate}); {missing} did not "
            "hold one in every month."
        ).format(
            held=t.number(f.regular_held),
            due=t.number(f.regular_due),
            rate=rate_text(t, f.regular_held, f.regular_due),
            missing=t.ngettext("{n} cell", "{n} cells", f.cells_missing_regular).format(
                n=t.number(f.cells_missing_regular)
            ),
        ),
        _(
            "Attendance: {present} of {required} required attendances ({rate}); {excused} "
            "absent with a valid reason and {unexcused} without."
        ).format(
            present=t.number(f.present),
            required=t.number(f.required),
            rate=t.percent(f.attendance_rate),
            excused=t.number(f.excused),
            unexcused=t.number(f.unexcused),
        ),
        _(
            "Three-months rule: {flagged} absent without reason in three months or more of "
            "the year (to be considered for removal), {warned} in two months (warned)."
        ).format(
            flagged=t.ngettext("{n} member", "{n} members", f.flagged).format(
                n=t.number(f.flagged)
            ),
            warned=t.ngettext("{n} member", "{n} members", f.warned).format(n=t.number(f.warned)),
        ),
        _("Superior committee members attended {visits} of {meetings} meetings held.").format(
            visits=t.number(f.superior_visits), meetings=t.number(f.meetings)
        ),
        _("Thematic meetings: held in {held} of {due} cell-quarters.").format(
            held=t.number(f.thematic_held), due=t.number(f.thematic_due)
        ),
    ]
    if s.flagged:
        # Members to be considered for removal go to the Organization Board by name.
        meet_paras[3:3] = [  # right after the three-months paragraph
            "- "
            + _("{name} ({cell}): months {months}").format(
                name=m.name,
                cell=m.cell_code,
                months=", ".join(f"{x:02d}" for x in m.months) + f"/{s.period.year}",
            )
            for m in s.flagged
        ]
    meet_tables = []
    if len(cells_missing) > DOC_CELL_ROWS_MAX:
        meet_paras.append(
            _(
                "Cells that did not hold a regular meeting every month (the first {shown} of "
                "{n}; the full list is in the Excel workbook):"
            ).format(shown=DOC_CELL_ROWS_MAX, n=t.number(len(cells_missing)))
        )
    elif cells_missing:
        meet_paras.append(_("Cells that did not hold a regular meeting every month:"))
        meet_tables.append(
            DocTable(
                [_("No."), _("Cell"), _("Months without a regular meeting")],
                [
                    [str(i), f"{r.name} ({r.code})", month_list(r.missing_months, t)]
                    for i, r in enumerate(cells_missing[:DOC_CELL_ROWS_MAX], start=1)
                ],
                [1.2, 9.8, 5.5],
            )
        )
    meetings = DocSection(_("Cell meetings"), meet_paras, meet_tables)

    signs = ", ".join(
        f"{t.gettext(GROUP_LABELS[g])}: {t.number(f.new_signs.get(g.value, 0))}" for g in SignGroup
    )
    commitments = DocSection(
        _("Commitment reviews and signs of degradation"),
        [
            _("Monthly commitment reviews: {done} of {due} member-months ({rate}).").format(
                done=t.number(f.reviews_done),
                due=t.number(f.reviews_due),
                rate=rate_text(t, f.reviews_done, f.reviews_due),
            ),
            _("New signs of degradation found: {n} ({groups}).").format(
                n=t.number(f.new_signs_total), groups=signs
            ),
        ],
    )
    if s.candidates.tracked:
        cand_paras = [
            _("Candidates followed: {n}; by stage: {stages}.").format(
                n=t.number(f.candidates),
                stages="; ".join(
                    f"{stage_name(k, t)} {t.number(v)}" for k, v in s.candidates.by_stage.items()
                )
                or "—",
            ),
            _("By priority group: {groups}.").format(
                groups="; ".join(
                    f"{priority_name(k, t)} {t.number(v)}"
                    for k, v in s.candidates.by_group.items()
                )
                or "—"
            ),
            _("Sympathizer list considered in {done} of {due} cell-months.").format(
                done=t.number(f.considerations_done), due=t.number(f.considerations_due)
            ),
        ]
    else:
        cand_paras = [_("Candidates are not yet tracked in chibo; no figures are reported.")]
    candidates = DocSection(_("Developing party membership"), cand_paras)

    behind: dict[str, list[str]] = {}
    late_count: dict[str, int] = {}
    names = {r.org_code: r.org_name for r in s.reports}
    for r in s.reports:
        if r.state == "missing":
            behind.setdefault(r.org_code, []).append(
                f"{report_kind_short(r.kind, t)} {report_period_name(r.period, t)}"
            )
        elif r.state == "late":
            late_count[r.org_code] = late_count.get(r.org_code, 0) + 1
    lagging = sorted(set(behind) | set(late_count))
    report_section = DocSection(
        _("Reporting"),
        [
            _(
                "Reports due in the period: {due}; on time {on_time}, late {late}, missing "
                "{missing}."
            ).format(
                due=t.number(f.reports_due),
                on_time=t.number(f.reports_on_time),
                late=t.number(f.reports_late),
                missing=t.number(f.reports_missing),
            )
        ]
        + (
            [
                _(
                    "Cells that submitted late or have not submitted (the first {shown} of "
                    "{n}; the full list is in the Excel workbook):"
                ).format(shown=DOC_CELL_ROWS_MAX, n=t.number(len(lagging)))
            ]
            if len(lagging) > DOC_CELL_ROWS_MAX
            else [_("Cells that submitted late or have not submitted:")]
            if lagging
            else []
        ),
        [
            DocTable(
                [_("No."), _("Cell"), _("Late"), _("Not submitted")],
                [
                    [
                        str(i),
                        f"{names[code]} ({code})",
                        t.number(late_count.get(code, 0)),
                        "; ".join(behind.get(code, [])) or "—",
                    ]
                    for i, code in enumerate(lagging[:DOC_CELL_ROWS_MAX], start=1)
                ],
                [1.2, 6.3, 1.6, 7.4],
            )
        ]
        if lagging
        else [],
    )
    without = s.cells_without_model
    model = DocSection(
        _("Studying and following Uncle Hồ"),
        [
            _("{n} have no study model registered for {year}{colon}").format(
                n=t.ngettext("{n} cell", "{n} cells", len(without)).format(
                    n=t.number(len(without))
                ),
                year=s.period.year,
                colon=": " + "; ".join(f"{r.name} ({r.code})" for r in without) if without else "",
            )
            + "."
        ],
    )
    breakdown = DocSection(
        _("Figures by organization type"),
        [],
        [
            DocTable(
                [
                    _("Organization type"),
                    _("Number of cells"),
                    _("Regular meetings"),
                    _("Attendance"),
                    _("Reviews"),
                    _("Reports missing"),
                ],
                [
                    [
                        g.name(t.locale),
                        t.number(g.figures.cells),
                        f"{g.figures.regular_held}/{g.figures.regular_due}",
                        t.percent(g.figures.attendance_rate),
                        rate_text(t, g.figures.reviews_done, g.figures.reviews_due),
                        t.number(g.figures.reports_missing),
                    ]
                    for g in s.by_type
                    if g.cell_ids
                ]
                + [
                    [
                        _("Total"),
                        t.number(f.cells),
                        f"{f.regular_held}/{f.regular_due}",
                        t.percent(f.attendance_rate),
                        rate_text(t, f.reviews_done, f.reviews_due),
                        t.number(f.reports_missing),
                    ]
                ],
                [5.6, 1.6, 2.6, 2.4, 2.2, 2.1],
            )
        ],
    )
    sections = [general, meetings, commitments, candidates, report_section, model, breakdown]
    if 1 < len(s.cells) <= DOC_CELL_ROWS_MAX:
        sections.append(
            DocSection(
                _("Figures by cell"),
                [],
                [
                    DocTable(
                        [
                            _("Cell"),
                            _("Regular meetings"),
                            _("Attendance"),
                            _("Thematic"),
                            _("Reviews"),
                            _("Model"),
                        ],
                        [
                            [
                                f"{r.name} ({r.code})",
                                f"{r.figures.regular_held}/{r.figures.regular_due}",
                                t.percent(r.figures.attendance_rate),
                                f"{r.figures.thematic_held}/{r.figures.thematic_due}",
                                f"{r.figures.reviews_done}/{r.figures.reviews_due}",
                                _("yes") if r.has_model else _("no"),
                            ]
                            for r in s.cells
                        ],
                        [6.2, 2.3, 2.3, 1.9, 2.3, 1.5],
                    )
                ],
            )
        )
    elif len(s.cells) > DOC_CELL_ROWS_MAX:
        breakdown.paragraphs.append(
            _("The figures of each cell are in the Excel workbook exported with this report.")
        )
    content = party_document(
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
        sections=sections,
        recipients=recipients(meta, t),
        signature=signature(meta, t),
        intro=intro,
    )
    return content


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
    """The signing block, by who issues the report."""
    _ = t.gettext
    if meta.kind is OrgKind.TOP:
        # TRANSLATORS: "T/M BAN THƯỜNG VỤ" in a Party document
        return Signature(_("On behalf of the Standing Board"), _("Secretary"))
    if meta.kind is OrgKind.COMMITTEE:
        # TRANSLATORS: "T/M ĐẢNG ỦY" in a Party document
        return Signature(_("On behalf of the party committee"), _("Secretary"))
    # TRANSLATORS: "T/M CHI ỦY" in a Party document
    return Signature(_("On behalf of the cell committee"), _("Secretary"))
