"""The summary rendered: chat screens, JSON, an Excel workbook, a Word report and a PNG chart.

Chat screens are written for a phone: one figure per short line, no wide tables; every list is
paged. Files are for printing and forwarding, so they are Vietnamese whatever the reader's chat
language (callers pass ``translator("vi")``). Every value a person typed (organization and member
names) is HTML-escaped in chat and can never become a formula in the workbook.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from io import BytesIO
from typing import Any

from documents.layout import DocHeader, DocSection, DocTable, Signature, party_document
from documents.reports import GROUP_LABELS, STATE_ICONS, STATE_LABELS
from domain.i18n import N_, Translator
from domain.rules.periods import Period, month_of, quarter_of, year_of
from domain.rules.reviews import ReportState
from domain.text import h, truncate
from storage import reports
from storage.models import MemberStatus, OrgKind, SignGroup
from storage.summary import (
    CANDIDATE_STAGES,
    PRIORITY_GROUPS,
    CellRow,
    CellYear,
    ChartData,
    DocumentMeta,
    Figures,
    Group,
    Summary,
)

SCHEMA = "chibo.summary/1"
PAGE_SIZE = 10
NAME_MAX = 40

#: Short names of the sign groups for phone lines.
GROUP_SHORT: dict[str, str] = {
    SignGroup.POLITICAL.value: N_("political"),
    SignGroup.ETHICS.value: N_("ethics"),
    SignGroup.SELF_EVOLUTION.value: N_("self-evolution"),
    "unspecified": N_("group not given"),
}

#: The lists behind the figures: view code → title msgid.
LISTS: dict[str, str] = {
    "miss": N_("Cells missing a regular meeting"),
    "att": N_("Attendance by cell"),
    "abs": N_("Three-months rule: absences without reason"),
    "sup": N_("Superior committee attendance by cell"),
    "them": N_("Cells without a thematic meeting"),
    "rev": N_("Commitment reviews by cell"),
    "sign": N_("New signs of degradation"),
    "cand": N_("Candidates"),
    "rep": N_("Reports not submitted on time"),
    "mod": N_("Cells without a Hồ Chí Minh study model"),
    "cells": N_("Cells"),
}


# --- Words -------------------------------------------------------------------------------------


def in_progress_text(t: Translator, n: int) -> str:
    """Cells whose month is still running without their meeting: not due, never missing."""
    return t.ngettext(
        "{n} cell has not met yet in a month still in progress (not due yet).",
        "{n} cells have not met yet in a month still in progress (not due yet).",
        n,
    ).format(n=t.number(n))


def assignment_intro(s: Summary, t: Translator) -> str:
    """The sentence before the table of visits by assignment."""
    return t.gettext(
        "Superior committee members' visits to the cells they are assigned to follow, "
        "{year} up to {date} (Quy định 784-QĐ/TU); a guest typed by name is not counted:"
    ).format(year=s.period.year, date=t.date(s.upto))


def assignment_rows(s: Summary) -> list[list[str]]:
    """(cell, follower, visits, meetings) per assignment, by cell code."""
    rows = []
    for a in sorted(s.assignments, key=lambda a: (getattr(s.cell(a.org_id), "code", ""), a.name)):
        row = s.cell(a.org_id)
        cell = f"{row.name} ({row.code})" if row else "?"
        rows.append([cell, a.name, str(a.visits), str(a.meetings)])
    return rows


def roman(n: int) -> str:
    """1 → I … 4 → IV (quarters)."""
    return {1: "I", 2: "II", 3: "III", 4: "IV"}.get(n, str(n))


def period_title(period: Period, t: Translator) -> str:
    """ "month 11/2026", "quarter IV/2026", "year 2026"."""
    if period.kind == "month":
        return t.gettext("month {month}").format(month=t.month(period.year, period.index))
    if period.kind == "quarter":
        return t.gettext("quarter {quarter}/{year}").format(
            quarter=roman(period.index), year=period.year
        )
    return t.gettext("year {year}").format(year=period.year)


def subject_name(s: Summary, t: Translator) -> str:
    """What the summary covers: an organization's name, a type's name, or "your scope"."""
    info = s.subject
    if info.subject.kind == "type":
        name = info.type_name_en if t.locale == "en" else info.type_name_vi
        return t.gettext("Type: {name}").format(name=name or "")
    if info.org_name:
        return info.org_name
    return t.gettext("All organizations in your scope")


def _rate(t: Translator, done: int, due: int) -> str:
    return t.percent(done / due) if due else "—"


def report_kind_name(code: str, t: Translator) -> str:
    """The registered name of a report kind."""
    kind = reports.KINDS.get(code)
    return t.gettext(kind.title) if kind else code


def report_period_name(key: str, t: Translator) -> str:
    """ "2026-Q3" → "quarter III/2026"; "2026" → "year 2026"."""
    if "-Q" in key:
        year, q = key.split("-Q")
        return period_title(Period("quarter", int(year), int(q)), t)
    return period_title(Period("year", int(key)), t) if key.isdigit() else key


def month_list(months: list[tuple[int, int]], t: Translator) -> str:
    """ "01–03/2026, 05/2026": runs of consecutive months are shortened."""
    runs: list[list[tuple[int, int]]] = []
    for y, m in sorted(months):
        if runs and runs[-1][-1][0] == y and runs[-1][-1][1] == m - 1:
            runs[-1].append((y, m))
        else:
            runs.append([(y, m)])
    parts = []
    for run in runs:
        (y0, m0), (y1, m1) = run[0], run[-1]
        parts.append(t.month(y0, m0) if len(run) == 1 else f"{m0:02d}–{t.month(y1, m1)}")
    return ", ".join(parts)


def report_kind_short(code: str, t: Translator) -> str:
    """A report kind's short name for phone lines ("Remedy"), else its title."""
    kind = reports.KINDS.get(code)
    if kind is None:
        return code
    return t.gettext(kind.short or kind.title)


def stage_name(code: str, t: Translator) -> str:
    """A candidate stage's name."""
    return t.gettext(CANDIDATE_STAGES[code]) if code in CANDIDATE_STAGES else code


def priority_name(code: str, t: Translator) -> str:
    """A priority group's name."""
    return t.gettext(PRIORITY_GROUPS[code]) if code in PRIORITY_GROUPS else code


def period_nav(period: Period, today: date) -> dict[str, Period | None]:
    """The periods the navigation buttons lead to (None when not yet started).

    Month / quarter / year switch around the last day counted (so from 2025 "month" leads to
    12/2025); previous and next step by the period's own kind.
    """
    anchor = min(period.end, today)
    nxt: Period | None
    day_after = period.end + timedelta(days=1)
    if period.kind == "month":
        nxt = month_of(day_after)
    elif period.kind == "quarter":
        nxt = quarter_of(day_after)
    else:
        nxt = year_of(day_after)
    return {
        "month": month_of(anchor),
        "quarter": quarter_of(anchor),
        "year": year_of(anchor),
        "prev": period.previous(),
        "next": nxt if nxt.start <= today else None,
    }


# --- Chat: the headline screen ----------------------------------------------------------------


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
                rate=_rate(t, f.reviews_done, f.reviews_due),
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
            row = s.cell(a.org_id)
            items.append(
                (
                    "   👤 "
                    + h(
                        _(
                            "{name} (follows {cell}): {visits} of {meetings} meetings in {year}"
                        ).format(
                            name=a.name,
                            cell=row.code if row else "?",
                            visits=a.visits,
                            meetings=a.meetings,
                            year=s.period.year,
                        )
                    ),
                    row,
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
        for line in s.reports:
            if line.state == ReportState.ON_TIME.value:
                continue
            state = ReportState(line.state)
            items.append(
                (
                    f"{STATE_ICONS[state]} <b>{h(line.org_code)}</b> "
                    + h(f"{report_kind_name(line.kind, t)}, {report_period_name(line.period, t)}")
                    + "\n   "
                    + h(
                        _("due {due}: {state}").format(
                            due=t.date(line.due_on), state=t.gettext(STATE_LABELS[state])
                        )
                    ),
                    s.cell(line.org_id),
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
    for _line, row in shown:
        if row is not None and (row.code, row.id) not in cells:
            cells.append((row.code, row.id))
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
    return lines


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
    import html
    import re

    return html.unescape(re.sub(r"</?(b|i|u|code|pre)>", "", html_text))


# --- JSON --------------------------------------------------------------------------------------


def figures_json(f: Figures) -> dict[str, Any]:
    """The figures as JSON (every key always present)."""
    out: dict[str, Any] = {k: v for k, v in vars(f).items() if k != "new_signs"}
    out["attendance_rate"] = None if f.attendance_rate is None else round(f.attendance_rate, 4)
    out["new_signs"] = {g.value: f.new_signs.get(g.value, 0) for g in SignGroup}
    out["new_signs"]["unspecified"] = f.new_signs.get("unspecified", 0)
    return out


def _ym(y: int, m: int) -> str:
    return f"{y}-{m:02d}"


def to_json(s: Summary) -> dict[str, Any]:
    """The summary as a JSON-ready dict (shape documented in docs/summary-json.md)."""
    info = s.subject
    codes = {row.id: row.code for row in s.cells}
    group_codes = {g.key: g.code for g in s.by_committee}
    return {
        "schema": SCHEMA,
        "generated_at": s.generated_at.isoformat(),
        "today": s.today.isoformat(),
        "period": {
            "key": s.period.key,
            "kind": s.period.kind,
            "start": s.period.start.isoformat(),
            "end": s.period.end.isoformat(),
            "upto": s.upto.isoformat(),
            "in_progress": s.in_progress,
            "months": [_ym(y, m) for y, m in s.months],
            "quarters": [f"{y}-Q{q}" for y, q in s.quarters],
        },
        "scope": {
            "kind": info.subject.kind,
            "org_code": info.org_code,
            "org_name": info.org_name,
            "type_code": info.subject.type_code,
            "type_name": {"vi": info.type_name_vi, "en": info.type_name_en}
            if info.subject.kind == "type"
            else None,
            "sees_all": s.scope_sees_all,
        },
        "has_data": s.has_data,
        "totals": figures_json(s.total),
        "by_type": [
            {
                "code": g.code or None,
                "name": {"vi": g.name_vi, "en": g.name_en},
                "cells": [codes[c] for c in g.cell_ids],
                "figures": figures_json(g.figures),
            }
            for g in s.by_type
        ],
        "by_committee": [
            {
                "code": g.code,
                "name": g.name_vi,
                "cells": [codes[c] for c in g.cell_ids],
                "figures": figures_json(g.figures),
            }
            for g in s.by_committee
        ],
        "cells": [
            {
                "code": row.code,
                "name": row.name,
                "kind": row.kind.value,
                "type": row.type_code,
                "committee": group_codes.get(str(row.group_id)),
                "months_due": [_ym(*ym) for ym in row.months_due],
                "months_missing": [_ym(*ym) for ym in row.missing_months],
                "quarters_missing": [f"{y}-Q{q}" for y, q in row.missing_quarters],
                "last_meeting": row.last_held.isoformat() if row.last_held else None,
                "has_study_model": row.has_model,
                "figures": figures_json(row.figures),
            }
            for row in s.cells
        ],
        "lists": {
            "three_months_flagged": [_member_json(m, s) for m in s.flagged],
            "three_months_warned": [_member_json(m, s) for m in s.warned],
            "new_signs": [
                {
                    "member_id": m.member_id,
                    "name": m.name,
                    "cell": m.cell_code,
                    "month": _ym(s.period.year, m.months[0]),
                    "group": m.sign_group,
                }
                for m in s.new_signs
            ],
            "reports": [
                {
                    "cell": r.org_code,
                    "kind": r.kind,
                    "period": r.period,
                    "due_on": r.due_on.isoformat(),
                    "state": r.state,
                    "submitted_on": r.submitted_on.isoformat() if r.submitted_on else None,
                }
                for r in s.reports
            ],
        },
        "candidates": {
            "tracked": s.candidates.tracked,
            "by_stage": s.candidates.by_stage,
            "by_priority_group": s.candidates.by_group,
        },
        "rule_sources": s.rule_sources,
    }


def _member_json(m: Any, s: Summary) -> dict[str, Any]:
    return {
        "member_id": m.member_id,
        "name": m.name,
        "cell": m.cell_code,
        "months": [_ym(s.period.year, x) for x in m.months],
        "level": m.level,
    }


# --- Excel -------------------------------------------------------------------------------------


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
        _("Visits by assignment"),
        [
            _Col(_("Cell"), 30),
            _Col(_("Assigned superior committee member"), 24),
            _Col(_("Visits"), 8),
            _Col(_("Meetings"), 8),
        ],
        [[c, n, int(v), int(m)] for c, n, v, m in assignment_rows(s)],
        None,
        t,
    )
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


# --- Word --------------------------------------------------------------------------------------

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
            rate=_rate(t, f.regular_held, f.regular_due),
            missing=t.ngettext("{n} cell", "{n} cells", f.cells_missing_regular).format(
                n=t.number(f.cells_missing_regular)
            ),
        )
        + (" " + in_progress_text(t, f.regular_in_progress) if f.regular_in_progress else ""),
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
    if s.assignments:
        meet_paras.append(assignment_intro(s, t))
        meet_tables.append(
            DocTable(
                [_("Cell"), _("Assigned superior committee member"), _("Visits"), _("Meetings")],
                assignment_rows(s),
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
                rate=_rate(t, f.reviews_done, f.reviews_due),
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
                        _rate(t, g.figures.reviews_done, g.figures.reviews_due),
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
                        _rate(t, f.reviews_done, f.reviews_due),
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


# --- The chart ---------------------------------------------------------------------------------

_PALETTE = ["#1f4e79", "#c00000", "#548235", "#bf8f00", "#7030a0", "#2e75b6", "#843c0c", "#595959"]


def to_png(chart: ChartData, t: Translator, title: str) -> bytes:
    """Meetings held and attendance per month of the year, by organization type (Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    _ = t.gettext
    fig = Figure(figsize=(10, 7.2), dpi=100, layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1.1, 1])
    months = chart.months
    labels = [f"{m:02d}" for m in range(1, 13)]
    x = list(range(1, 13))
    base = [0] * len(months)
    due_total = [0] * len(months)
    for i, s in enumerate(chart.series):
        color = _PALETTE[i % len(_PALETTE)]
        top.bar(months, s.held, bottom=base, color=color, width=0.65, label=s.name(t.locale))
        base = [b + v for b, v in zip(base, s.held, strict=True)]
        due_total = [d + v for d, v in zip(due_total, s.due, strict=True)]
        rates = s.rates()
        pts = [(m, r * 100) for m, r in zip(months, rates, strict=True) if r is not None]
        if pts:
            bottom.plot(
                [p[0] for p in pts],
                [p[1] for p in pts],
                marker="o",
                markersize=4,
                linewidth=1.6,
                color=color,
                label=s.name(t.locale),
            )
    if months:
        top.step(
            [m - 0.5 for m in months] + [months[-1] + 0.5],
            due_total + due_total[-1:],
            where="post",
            color="#333333",
            linewidth=1.2,
            linestyle="--",
            label=_("cells expected to meet"),
        )
        total_p = [sum(s.present[i] for s in chart.series) for i in range(len(months))]
        total_r = [sum(s.required[i] for s in chart.series) for i in range(len(months))]
        pts = [(m, p / r * 100) for m, p, r in zip(months, total_p, total_r, strict=True) if r]
        if pts:
            bottom.plot(
                [p[0] for p in pts],
                [p[1] for p in pts],
                color="black",
                linewidth=2.6,
                label=_("all types"),
            )
    top.set_title(_("Cells that held their regular meeting, per month"), fontsize=11, loc="left")
    top.set_ylabel(_("cells"))
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    top.grid(axis="y", alpha=0.3)
    bottom.set_title(_("Attendance at regular meetings"), fontsize=11, loc="left")
    bottom.set_ylabel(_("attendance"))
    bottom.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    bottom.set_ylim(0, 105)
    bottom.grid(axis="y", alpha=0.3)
    bottom.set_xticks(x, labels)
    bottom.set_xlim(0.4, 12.6)
    bottom.set_xlabel(_("month of {year}").format(year=chart.year))
    if not chart.series or not any(any(s.required) for s in chart.series):
        bottom.text(6.5, 50, _("no attendance recorded"), ha="center", va="center", color="#777")
    handles, names = top.get_legend_handles_labels()
    for handle, name in zip(*bottom.get_legend_handles_labels(), strict=True):
        if name not in names:
            handles.append(handle)
            names.append(name)
    fig.legend(
        handles,
        names,
        loc="outside lower center",
        ncols=min(3, max(1, len(names))),
        fontsize=9,
        frameon=False,
    )
    fig.suptitle(title, fontsize=13, fontweight="bold")
    buf = BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# --- The annual report on carrying out the plan ------------------------------------------------


def _plan_subject(t: Translator, v: Any) -> str:
    return t.gettext("Results of carrying out Plan 12-KH/ĐUK, year {year}").format(
        year=v.period.year
    )


def _plan_lines(t: Translator, f: dict[str, Any]) -> list[tuple[str, str]]:
    """(heading msgid, text) of the plan report's figures, shared by chat and document."""
    _ = t.gettext
    started = int(f.get("months_started", 0))
    missing = [tuple(int(x) for x in m.split("-")) for m in f.get("months_missing", [])]
    regular = _("Regular meetings held in {held} of {months} months.").format(
        held=f.get("regular_held", 0), months=started
    )
    if missing:
        regular += " " + _("Not held: {months}.").format(months=month_list(missing, t))
    flagged = f.get("flagged") or []
    three = _(
        "Three-months rule: {flagged} absent without reason in three months or more, "
        "{warned} in two months."
    ).format(
        flagged=t.ngettext("{n} member", "{n} members", len(flagged)).format(n=len(flagged)),
        warned=t.ngettext("{n} member", "{n} members", int(f.get("warned", 0))).format(
            n=int(f.get("warned", 0))
        ),
    )
    if flagged:
        three += " " + "; ".join(
            _("{name} (months {months})").format(
                name=x["name"], months=", ".join(f"{m:02d}" for m in x["months"])
            )
            for x in flagged
        )
    signs = f.get("new_signs") or {}
    models = f.get("study_models") or []
    stages = f.get("candidates") or {}
    return [
        ("Cell meetings", regular),
        (
            "Cell meetings",
            _("Thematic meetings in {held} of {quarters} quarters.").format(
                held=f.get("thematic_quarters", 0), quarters=f.get("quarters", 0)
            ),
        ),
        (
            "Cell meetings",
            _(
                "Attendance at regular meetings: {present}/{required} ({rate}); {excused} "
                "absent with a valid reason, {unexcused} without."
            ).format(
                present=f.get("present", 0),
                required=f.get("required", 0),
                rate=_rate(t, int(f.get("present", 0)), int(f.get("required", 0))),
                excused=f.get("excused", 0),
                unexcused=f.get("unexcused", 0),
            ),
        ),
        ("Cell meetings", three),
        (
            "Cell meetings",
            _("Superior committee members attended {visits} of {meetings} meetings.").format(
                visits=f.get("superior_visits", 0), meetings=f.get("meetings", 0)
            ),
        ),
        (
            "Commitment reviews and signs of degradation",
            _("Monthly commitment reviews: {done} of {due} ({rate}).").format(
                done=f.get("reviews_done", 0),
                due=f.get("reviews_due", 0),
                rate=_rate(t, int(f.get("reviews_done", 0)), int(f.get("reviews_due", 0))),
            ),
        ),
        (
            "Commitment reviews and signs of degradation",
            _("New signs of degradation: {groups}.").format(
                groups=", ".join(
                    f"{t.gettext(GROUP_LABELS[g])}: {signs.get(g.value, 0)}" for g in SignGroup
                )
            ),
        ),
        (
            "Studying and following Uncle Hồ",
            _("Study model registered: {titles}.").format(titles="; ".join(models))
            if models
            else _("No study model is registered for the year."),
        ),
        (
            "Developing party membership",
            _("Sympathizer list considered in {n} of {months} months.").format(
                n=f.get("considerations", 0), months=started
            )
            + " "
            + (
                _("Candidates: {stages}.").format(
                    stages="; ".join(f"{stage_name(k, t)} {v}" for k, v in stages.items())
                )
                if stages
                else _("Candidates are not yet tracked in chibo.")
            ),
        ),
    ]


def _plan_chat(t: Translator, v: Any) -> list[str]:
    lines: list[str] = []
    heading = None
    for title, text in _plan_lines(t, v.figures):
        if title != heading:
            lines += ([""] if lines else []) + ["<b>" + h(t.gettext(title)) + "</b>"]
            heading = title
        lines.append("• " + h(text))
    return lines


def _plan_sections(t: Translator, v: Any) -> list[DocSection]:
    sections: dict[str, DocSection] = {}
    for title, text in _plan_lines(t, v.figures):
        sections.setdefault(title, DocSection(t.gettext(title))).paragraphs.append(text)
    return list(sections.values())


def _plan_recipients(t: Translator, v: Any) -> list[str]:
    return [
        t.gettext("Standing Board of the {org} (via the Organization Board);").format(
            org=v.top_name
        ),
        t.gettext("Filed at the cell."),
    ]


def register_plan_renderer() -> None:
    """Teach :mod:`documents.reports` to render the annual plan report."""
    from documents.reports import KindRenderer, register_renderer

    register_renderer(
        "plan_annual",
        KindRenderer(
            subject=_plan_subject,
            chat_body=_plan_chat,
            doc_sections=_plan_sections,
            recipients=_plan_recipients,
        ),
    )


register_plan_renderer()


def rollup_docx(r: Any, t: Translator, meta: DocumentMeta) -> bytes:
    """The Khối's roll-up of the cells' annual plan reports, in the Party's layout."""
    _ = t.gettext
    tt = r.totals

    def names(items: list[tuple[str, str]]) -> str:
        return "; ".join(f"{name} ({code})" for code, name in items) or _("none")

    submitted = DocSection(
        _("Reports received"),
        [
            _(
                "{submitted} of {cells} cells submitted their report (due {due}): {on_time} on "
                "time, {late} late; {missing} have not submitted."
            ).format(
                submitted=t.number(r.submitted),
                cells=t.number(r.cells),
                due=t.date(r.due_on),
                on_time=t.number(len(r.on_time)),
                late=t.number(len(r.late)),
                missing=t.number(len(r.missing) + len(r.not_due)),
            ),
            _("Submitted late: {names}.").format(names=names(r.late)),
            _("Not submitted: {names}.").format(names=names(r.missing + r.not_due)),
        ],
    )
    results = DocSection(
        _("Results reported by the cells"),
        [
            _("Regular meetings held in {held} of {months} cell-months ({rate}).").format(
                held=t.number(tt["regular_held"]),
                months=t.number(tt["months_started"]),
                rate=_rate(t, tt["regular_held"], tt["months_started"]),
            ),
            _("Thematic meetings in {held} of {quarters} cell-quarters.").format(
                held=t.number(tt["thematic_quarters"]), quarters=t.number(tt["quarters"])
            ),
            _(
                "Attendance at regular meetings: {present}/{required} ({rate}); {unexcused} "
                "absences without a valid reason; {flagged} members to be considered under the "
                "three-months rule."
            ).format(
                present=t.number(tt["present"]),
                required=t.number(tt["required"]),
                rate=_rate(t, tt["present"], tt["required"]),
                unexcused=t.number(tt["unexcused"]),
                flagged=t.number(r.flagged),
            ),
            _("Monthly commitment reviews: {done} of {due} ({rate}).").format(
                done=t.number(tt["reviews_done"]),
                due=t.number(tt["reviews_due"]),
                rate=_rate(t, tt["reviews_done"], tt["reviews_due"]),
            ),
            _("New signs of degradation: {groups}.").format(
                groups=", ".join(
                    f"{t.gettext(GROUP_LABELS[g])}: {t.number(r.new_signs.get(g.value, 0))}"
                    for g in SignGroup
                )
            ),
            _("{n} of the reporting cells have a study model registered.").format(
                n=t.number(r.with_model)
            ),
        ],
    )
    content = party_document(
        t=t,
        header=DocHeader(
            superior=meta.superior,
            issuer=meta.issuer,
            number=_("No.      -BC/{abbr}").format(abbr=meta.abbreviation),
            place=meta.place,
            day=r.today,
        ),
        title=_("Report"),
        subject=_("Roll-up of the cells' reports on carrying out Plan 12-KH/ĐUK, {year}").format(
            year=r.year
        ),
        sections=[submitted, results],
        recipients=recipients(meta, t),
        signature=signature(meta, t),
        intro=_(
            "From the annual reports on carrying out Plan 12-KH/ĐUK that the cells submitted "
            "through chibo up to {date}, {issuer} sums up as follows:"
        ).format(date=t.date(r.today), issuer=meta.issuer),
    )
    return content
