"""The summary on a phone: the headline screen, paged lists, breakdowns, one cell, the notes.

Chat screens are written for a phone: one figure per short line, no wide tables; every list is
paged. Every value a person typed (organization and member names) is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from documents import pipeline as pipeline_doc
from documents.report_parts import STATE_ICONS, STATE_LABELS
from documents.summary_words import (
    GROUP_SHORT,
    LISTS,
    NAME_MAX,
    PAGE_SIZE,
    in_progress_text,
    month_list,
    owner_kind_name,
    period_title,
    priority_name,
    rate_text,
    report_kind_name,
    report_period_name,
    roman,
    stage_name,
    subject_name,
)
from domain.i18n import Translator
from domain.rules.reviews import ReportState
from domain.text import h, truncate
from storage.models import MemberStatus, SignGroup
from storage.summary import (
    CellRow,
    CellYear,
    Figures,
    Group,
    Summary,
)


def main_text(s: Summary, t: Translator) -> str:
    """The headline figures of a summary, one short line each (HTML)."""
    _ = t.gettext
    f = s.total
    lines = [
        "📊 <b>" + h(_("Summary, {period}").format(period=period_title(s.period, t))) + "</b>",
        "🏛 " + h(subject_name(s, t)),
        h(
            t.ngettext("{n} cell", "{n} cells", f.cells).format(n=f.cells)
            + " · "
            + t.ngettext("{n} member", "{n} members", f.members).format(n=f.members)
        ),
    ]
    if s.in_progress:
        lines.append(
            "<i>"
            + h(_("As of {date}; the period is not over.").format(date=t.date(s.upto)))
            + "</i>"
        )
    if not s.has_data:
        lines.append("<i>" + h(_("No records for this period yet.")) + "</i>")
    if not f.cells:
        lines.append("")
        lines.append(h(_("No cells of this kind in your scope.")))
        return "\n".join(lines)

    lines += ["", "<b>" + h(_("Meetings")) + "</b>"]
    if s.period.kind == "month":
        lines.append(
            "🗓 "
            + h(_("Regular meeting held: {held}/{due} cells")).format(
                held=f"<b>{f.regular_held}</b>", due=f.regular_due
            )
        )
    else:
        lines.append(
            "🗓 "
            + h(_("Regular meetings: {held}/{due} cell-months")).format(
                held=f"<b>{f.regular_held}</b>", due=f.regular_due
            )
        )
    if f.cells_missing_regular:
        lines.append(
            "    "
            + h(
                t.ngettext(
                    "{n} cell missing one", "{n} cells missing one", f.cells_missing_regular
                ).format(n=f.cells_missing_regular)
            )
        )
    if f.regular_in_progress:
        lines.append("    ⏳ " + h(in_progress_text(t, f.regular_in_progress)))
    lines.append(
        "👥 "
        + h(_("Attendance: {rate} ({present}/{required})")).format(
            rate=f"<b>{h(t.percent(f.attendance_rate))}</b>",
            present=f.present,
            required=f.required,
        )
    )
    lines.append("🚫 " + h(_("Absent without reason: {n}").format(n=f.unexcused)))
    lines.append(
        "⚠️ "
        + h(
            _("Three-months rule: {flagged} flagged · {warned} warned").format(
                flagged=f.flagged, warned=f.warned
            )
        )
    )
    lines.append(
        "🎖 "
        + h(
            _("Superior committee at {visits} of {meetings} meetings").format(
                visits=f.superior_visits, meetings=f.meetings
            )
        )
    )
    if len(s.quarters) == 1:
        lines.append(
            "📚 "
            + h(
                _("Thematic, quarter {quarter}: {held}/{due} cells").format(
                    quarter=roman(s.quarters[0][1]), held=f.thematic_held, due=f.thematic_due
                )
            )
        )
    else:
        lines.append(
            "📚 "
            + h(
                _("Thematic: {held}/{due} cell-quarters").format(
                    held=f.thematic_held, due=f.thematic_due
                )
            )
        )

    lines += ["", "<b>" + h(_("Commitments")) + "</b>"]
    lines.append(
        "📝 "
        + h(
            _("Reviews: {done} of {due} ({rate})").format(
                done=f.reviews_done,
                due=f.reviews_due,
                rate=rate_text(t, f.reviews_done, f.reviews_due),
            )
        )
    )
    lines.append("🔎 " + h(_("New signs of degradation: {n}").format(n=f.new_signs_total)))
    if f.new_signs_total:
        lines.append("    " + h(sign_breakdown(f, t)))

    lines += ["", "<b>" + h(_("Candidates")) + "</b>"]
    if not s.candidates.tracked:
        lines.append("🌱 " + h(_("Not yet tracked in chibo.")))
    else:
        lines.append(
            "🌱 "
            + h(
                t.ngettext("{n} candidate", "{n} candidates", f.candidates).format(n=f.candidates)
                + " · "
                + _("list considered {done}/{due} months").format(
                    done=f.considerations_done, due=f.considerations_due
                )
            )
        )
    lines += pipeline_doc.overdue_lines(s.pipeline, t, limit=3)

    lines += ["", "<b>" + h(_("Reports")) + "</b>"]
    lines.append(
        "📨 "
        + h(
            _("Due {due} · on time {on_time} · late {late} · missing {missing}").format(
                due=f.reports_due,
                on_time=f.reports_on_time,
                late=f.reports_late,
                missing=f.reports_missing,
            )
        )
    )
    if f.reports_pending:
        lines.append("    " + h(_("{n} due today, not yet in").format(n=f.reports_pending)))
    lines += [
        "",
        "🏅 "
        + h(
            _("No study model for {year}: {n}").format(
                year=s.period.year,
                n=t.ngettext("{n} cell", "{n} cells", f.cells_without_model).format(
                    n=f.cells_without_model
                ),
            )
        ),
    ]
    return "\n".join(lines)


def sign_breakdown(f: Figures, t: Translator) -> str:
    """ "political 0 · ethics 1 · self-evolution 0"."""
    parts = [f"{t.gettext(GROUP_SHORT[g.value])} {f.new_signs.get(g.value, 0)}" for g in SignGroup]
    if f.new_signs.get("unspecified"):
        parts.append(f"{t.gettext(GROUP_SHORT['unspecified'])} {f.new_signs['unspecified']}")
    return " · ".join(parts)


# --- Chat: lists and breakdowns ---------------------------------------------------------------


@dataclass
class Page:
    """One page of a list: its text, the cells it offers as buttons, and paging."""

    text: str
    cells: list[tuple[str, int]]  # (button label, cell id)
    page: int
    pages: int


def _cell_label(row: CellRow) -> str:
    return f"<b>{h(row.code)}</b> {h(truncate(row.name, NAME_MAX))}"


def list_page(s: Summary, t: Translator, view: str, page: int) -> Page:
    """One page of the list behind a figure (``view`` is a key of :data:`LISTS`)."""
    _ = t.gettext
    header = [
        "📋 <b>" + h(_(LISTS[view])) + "</b>",
        h(f"{subject_name(s, t)} · {period_title(s.period, t)}"),
        "",
    ]
    items: list[tuple[str, CellRow | None]] = []  # (html line, cell to offer)
    note: str | None = None
    if view == "miss":
        for row in s.cells_missing_regular:
            items.append((f"• {_cell_label(row)}\n   {h(month_list(row.missing_months, t))}", row))
        note = _("Every cell meets once each calendar month (regular or combined meeting).")
    elif view == "att":
        rows = sorted(
            s.cells,
            key=lambda r: (r.figures.attendance_rate is not None, r.figures.attendance_rate or 0),
        )
        for row in rows:
            f = row.figures
            items.append(
                (
                    f"• {_cell_label(row)}\n   {h(t.percent(f.attendance_rate))}"
                    f" ({f.present}/{f.required}) · "
                    + h(_("without reason {n}").format(n=f.unexcused)),
                    row,
                )
            )
        note = _(
            "Present ÷ members required at regular meetings (full and probationary; exempt "
            "members are not counted)."
        )
    elif view == "abs":
        for line in s.flagged + s.warned:
            icon = "⛔" if line.level >= 2 else "⚠️"
            months = ", ".join(f"{m:02d}" for m in line.months)
            items.append(
                (
                    f"{icon} {h(line.name)} ({h(line.cell_code)})\n   "
                    + h(_("months {months}/{year}").format(months=months, year=s.period.year)),
                    s.cell(line.cell_id),
                )
            )
        note = _(
            "Months of the calendar year absent without reason from the regular meeting: "
            "warned at 2, flagged for removal consideration at 3."
        )
    elif view == "sup":
        for row in s.cells:
            f = row.figures
            items.append(
                (
                    f"• {_cell_label(row)}\n   "
                    + h(
                        _("{visits} of {meetings} meetings").format(
                            visits=f.superior_visits, meetings=f.meetings
                        )
                    ),
                    row,
                )
            )
        for a in s.assignments:
            followed = s.cell(a.org_id)
            items.append(
                (
                    "   👤 "
                    + h(
                        _(
                            "{name} (follows {cell}): {visits} of {meetings} meetings in {year}"
                        ).format(
                            name=a.name,
                            cell=followed.code if followed else "?",
                            visits=a.visits,
                            meetings=a.meetings,
                            year=s.period.year,
                        )
                    ),
                    followed,
                )
            )
        note = _("Meetings a superior committee member attended (Quy định 784-QĐ/TU).")
    elif view == "them":
        for row in s.cells_missing_thematic:
            quarters = ", ".join(f"{roman(q)}/{y}" for y, q in row.missing_quarters)
            items.append(
                (f"• {_cell_label(row)}\n   " + h(_("quarter {q}").format(q=quarters)), row)
            )
        note = _("At least one thematic meeting each quarter (a combined meeting counts).")
    elif view == "rev":
        for row in sorted(
            s.cells,
            key=lambda r: (
                (r.figures.reviews_done / r.figures.reviews_due) if r.figures.reviews_due else 2
            ),
        ):
            f = row.figures
            items.append(
                (
                    f"• {_cell_label(row)}\n   {f.reviews_done}/{f.reviews_due}"
                    f" · ⚠️ {f.new_signs_total}",
                    row,
                )
            )
        note = _(
            "Each month every member on the roll (exempt members aside) is reviewed on the "
            "commitment (Quy định 4842-QĐ/TU, khoản 3 điều 4)."
        )
    elif view == "sign":
        for line in s.new_signs:
            group = t.gettext(GROUP_SHORT.get(line.sign_group or "unspecified", ""))
            items.append(
                (
                    f"• {h(line.name)} ({h(line.cell_code)})\n   "
                    f"{h(t.month(s.period.year, line.months[0]))} · {h(group)}",
                    s.cell(line.cell_id),
                )
            )
        note = sign_breakdown(s.total, t)
    elif view == "cand":
        lines = candidates_lines(s, t)
        return Page("\n".join(header + lines), [], 0, 1)
    elif view == "rep":
        for rep in s.reports:
            if rep.state == ReportState.ON_TIME.value:
                continue
            state = ReportState(rep.state)
            items.append(
                (
                    f"{STATE_ICONS[state]} <b>{h(rep.org_code)}</b> "
                    + (
                        f"({h(owner_kind_name(rep.org_kind, t))}) "
                        if rep.org_kind != "cell"
                        else ""
                    )
                    + h(f"{report_kind_name(rep.kind, t)}, {report_period_name(rep.period, t)}")
                    + "\n   "
                    + h(
                        _("due {due}: {state}").format(
                            due=t.date(rep.due_on), state=t.gettext(STATE_LABELS[state])
                        )
                    ),
                    s.cell(rep.org_id),
                )
            )
        note = _("Reports that fell due in the period: late, missing, or due today.")
    elif view == "mod":
        for row in s.cells_without_model:
            items.append((f"• {_cell_label(row)}", row))
        note = _(
            "Each cell registers at least one model of studying and following Uncle Hồ a year."
        )
    else:  # cells
        for row in s.cells:
            f = row.figures
            items.append(
                (
                    f"• {_cell_label(row)}\n   🗓 {f.regular_held}/{f.regular_due}"
                    f" · 👥 {h(t.percent(f.attendance_rate))}"
                    f" · 📝 {f.reviews_done}/{f.reviews_due}",
                    row,
                )
            )
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    body = [line for line, _row in shown] or [h(_("Nobody and nothing here: all clear."))]
    footer = []
    if pages > 1:
        footer.append(
            h(
                _("Page {page}/{pages} · {n} in all").format(
                    page=page + 1, pages=pages, n=len(items)
                )
            )
        )
    if note:
        footer.append("<i>" + h(note) + "</i>")
    cells: list[tuple[str, int]] = []
    for _line, owner in shown:
        if owner is not None and (owner.code, owner.id) not in cells:
            cells.append((owner.code, owner.id))
    text = "\n".join(header + body + (["", *footer] if footer else []))
    return Page(text, cells, page, pages)


def candidates_lines(s: Summary, t: Translator) -> list[str]:
    """Candidates by stage and priority group (or an honest "not yet tracked")."""
    _ = t.gettext
    if not s.candidates.tracked:
        return [
            h(_("Candidates are not yet tracked in chibo: no figures to show.")),
            "",
            "<i>"
            + h(
                _(
                    "The stages (sympathizer → awareness class → mentors → application → "
                    "cell resolution → decision) and the priority groups will be counted here "
                    "once cells record them."
                )
            )
            + "</i>",
        ]
    lines = ["<b>" + h(_("By stage")) + "</b>"]
    for stage, n in s.candidates.by_stage.items():
        lines.append(f"• {h(stage_name(stage, t))}: {n}")
    lines += ["", "<b>" + h(_("By priority group")) + "</b>"]
    if not s.candidates.by_group:
        lines.append(h(_("none recorded")))
    for group, n in s.candidates.by_group.items():
        lines.append(f"• {h(priority_name(group, t))}: {n}")
    lines += [
        "",
        h(
            _("Sympathizer list considered: {done}/{due} cell-months").format(
                done=s.total.considerations_done, due=s.total.considerations_due
            )
        ),
    ]
    return lines + pipeline_doc.chat_lines(s.pipeline, t)


def breakdown_text(s: Summary, t: Translator, by: str) -> tuple[str, list[Group]]:
    """The breakdown by organization type (``by="type"``) or by party committee; returns the
    text and the groups that have cells (offered as buttons)."""
    _ = t.gettext
    groups = s.by_type if by == "type" else s.by_committee
    title = _("By organization type") if by == "type" else _("By party committee")
    lines = [
        "🗂 <b>" + h(title) + "</b>",
        h(f"{subject_name(s, t)} · {period_title(s.period, t)}"),
        "",
    ]
    for g in groups:
        f = g.figures
        name = h(truncate(g.name(t.locale), NAME_MAX))
        if not g.cell_ids:
            lines.append(f"• {name}: " + h(_("no cells")))
            continue
        lines.append(
            f"• <b>{name}</b>\n   "
            + h(t.ngettext("{n} cell", "{n} cells", f.cells).format(n=f.cells))
            + f" · 🗓 {f.regular_held}/{f.regular_due} · 👥 {h(t.percent(f.attendance_rate))}"
        )
    if by == "committee":
        lines += [
            "",
            "<i>"
            + h(
                _(
                    "A grassroots cell (chi bộ cơ sở) is its own line; a cell under a "
                    "grassroots party committee counts with the committee."
                )
            )
            + "</i>",
        ]
    return "\n".join(lines), [g for g in groups if g.cell_ids]


def cell_text(cy: CellYear, t: Translator) -> str:
    """One cell month by month over a year (HTML)."""
    _ = t.gettext
    row = cy.cell
    required = sum(n for st, n in cy.members.items() if st.must_attend)
    on_roll = sum(n for st, n in cy.members.items() if st.is_active)
    exempt = cy.members.get(MemberStatus.EXEMPT, 0)
    year = cy.year
    lines = [
        f"🏛 <b>{h(row.code)}</b> {h(row.name)}",
        h(
            t.ngettext("{n} member", "{n} members", on_roll).format(n=on_roll)
            + " · "
            + _("{required} required, {exempt} exempt").format(required=required, exempt=exempt)
        ),
        "<b>" + h(_("Month by month, {year}").format(year=year)) + "</b>",
        "",
    ]
    if not on_roll:
        lines.append(h(_("This cell has no members on its roll.")))
    for ml in cy.months:
        m = ml.meeting
        if not ml.due:
            lines.append(f"{ml.month:02d} · " + h(_("not active")))
            continue
        icon = "✅" if m.regular_held else "⏳" if ml.in_progress else "❌"
        extra = ("📚" if m.thematic else "") + ("🎖" if m.superior_attended else "")
        text = f"{ml.month:02d} {icon} 👥 {h(t.percent(m.attendance_rate))}"
        if m.unexcused:
            text += f" 🚫{m.unexcused}"
        text += f" 📝 {ml.reviewed}/{ml.to_review}"
        if ml.new_signs:
            text += f" ⚠️{ml.new_signs}"
        if extra:
            text += " " + extra
        lines.append(text)
    lines += [
        "",
        "<i>"
        + h(
            _(
                "✅ regular meeting held · ❌ not held · 👥 attendance · 🚫 absent without "
                "reason · 📝 reviewed/to review · ⚠️ new signs · 📚 thematic · 🎖 superior "
                "committee attended"
            )
        )
        + "</i>",
    ]
    if row.has_model:
        lines.append("🏅 " + h(_("Study model registered for {year}.").format(year=year)))
    else:
        lines.append("🏅 " + h(_("No study model registered for {year}.").format(year=year)))
    return "\n".join(lines)


def explain_text(s: Summary, t: Translator) -> str:
    """How each figure is counted, with the rule it comes from."""
    _ = t.gettext
    src = s.rule_sources
    items = [
        (
            _("Regular meetings"),
            _(
                "A cell-month counts when the cell held a regular or combined meeting that "
                "month. For a quarter or a year: cells × months started so far."
            ),
            src.get("regular", ""),
        ),
        (
            _("Attendance"),
            _(
                "Present ÷ required at regular meetings; required = full and probationary "
                "members, exempt members are not counted."
            ),
            "",
        ),
        (
            _("Three-months rule"),
            _(
                "Months of the calendar year (up to the period's end) absent without reason "
                "from the regular meeting: warned at 2, flagged at 3."
            ),
            src.get("three_months", ""),
        ),
        (
            _("Superior committee"),
            _("Meetings a superior committee member attended, of all meetings held."),
            "Quy định 784-QĐ/TU",
        ),
        (
            _("Thematic meetings"),
            _("A quarter counts when the cell held a thematic or combined meeting in it."),
            src.get("thematic", ""),
        ),
        (
            _("Commitment reviews"),
            _(
                "Members reviewed ÷ members on the roll each month (exempt members and members "
                "not yet admitted aside); new signs by group."
            ),
            src.get("reviews", ""),
        ),
        (
            _("Candidates"),
            _("Candidates by stage and priority group as the cells record them."),
            "Kế hoạch 12-KH/ĐUK, mục 2.3b",
        ),
        (
            _("Reports"),
            _(
                "Reports that fell due in the period, per cell: on time (by the due date), "
                "late, missing (overdue), or due today."
            ),
            "Quy định 4842-QĐ/TU; Kế hoạch 12-KH/ĐUK",
        ),
        (
            _("Study models"),
            _("Cells without a Hồ Chí Minh study model registered for the year."),
            src.get("model", ""),
        ),
    ]
    lines = ["ℹ️ <b>" + h(_("How the figures are counted")) + "</b>", ""]
    for title, text, source in items:
        lines.append(f"<b>{h(title)}</b>: {h(text)}")
        if source:
            lines.append(f"<i>{h(source)}</i>")
    return "\n".join(lines)


def plain(html_text: str) -> str:
    """The chat text without markup, for a terminal."""
    return html.unescape(re.sub(r"</?(b|i|u|code|pre)>", "", html_text))
