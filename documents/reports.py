"""Reports rendered for people: HTML text for the chat, and .docx in the Party's layout.

The Word file always goes through :func:`documents.layout.party_document` (one template for every
report). Each report kind has a :class:`~documents.report_parts.KindRenderer` for its own body,
listed in :data:`RENDERERS`; the frame (title, period, status, assessment, recipients,
signature) is shared.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from documents.layout import DocHeader, DocSection, DocTable, party_document
from documents.report_parts import (
    OUTCOME_ICONS,
    STATE_ICONS,
    STATE_LABELS,
    KindRenderer,
    group_label,
    month_label,
    outcome_label,
    period_label,
    sign_words,
    signing_block,
    signs_by_group_and_sign,
)
from documents.summary_plan import PLAN
from domain.i18n import Translator, translator
from domain.rules.reviews import ReportState
from domain.text import h, truncate
from storage.models import ReportStatus, ReviewOutcome
from storage.reports import ReportView

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: At most this many names per list in a chat message (the .docx lists everyone).
CHAT_LIST_MAX = 15


def _iso(value: str) -> date:
    return date.fromisoformat(value)


# --- Per-kind bodies ----------------------------------------------------------------------------


def _remedy_subject(t: Translator, v: ReportView) -> str:
    return t.gettext(
        "Results of carrying out the commitments and remedying signs of degradation, {period}"
    ).format(period=period_label(t, v.period))


def _counts_line(t: Translator, row: dict[str, Any]) -> str:
    return " · ".join(f"{OUTCOME_ICONS[o]} {row.get(o.value, 0)}" for o in ReviewOutcome)


def _cell_status(t: Translator, cell: dict[str, Any]) -> str:
    """ "submitted 18/12/2026 (on time)", or the standing of a report not submitted."""
    state = ReportState(cell["state"])
    if cell["submitted"] and cell.get("submitted_on"):
        return t.gettext("submitted {date} ({state})").format(
            date=t.date(_iso(cell["submitted_on"])), state=t.gettext(STATE_LABELS[state])
        )
    return t.gettext(STATE_LABELS[state])


def _cells_chat(t: Translator, f: dict[str, Any]) -> list[str]:
    """A committee's report: which of its cells submitted theirs."""
    cells = f.get("cells") or []
    if not f.get("from_cells"):
        return []
    lines = [
        t.gettext("<b>Reports of the cells</b>: {done} of {n} submitted").format(
            done=f.get("cells_submitted", 0), n=len(cells)
        )
    ]
    for cell in cells[:CHAT_LIST_MAX]:
        icon = STATE_ICONS[ReportState(cell["state"])]
        lines.append(f"• {icon} {h(cell['name'])}: {h(_cell_status(t, cell))}")
    _more(t, lines, cells)
    lines.append("")
    return lines


def _meeting_cell(t: Translator, f: dict[str, Any], row: dict[str, Any]) -> str:
    """The meeting column: a cell met or not; for a committee, how many of its cells met."""
    if f.get("from_cells"):
        return t.gettext("{met}/{n} cells").format(
            met=row.get("cells_met", 0), n=len(f.get("cells") or [])
        )
    return t.gettext("yes") if row["meeting"] else t.gettext("not recorded")


def _remedy_chat(t: Translator, v: ReportView) -> list[str]:
    f = v.figures
    _ = t.gettext
    lines: list[str] = _cells_chat(t, f)
    if f.get("no_reviews") and f.get("from_cells"):
        lines.append(
            _(
                "⚠️ <b>No monthly review was recorded in this period.</b> None of the cells "
                "under the committee has reviewed its members' commitments, so there is nothing "
                "to report as progress."
            )
        )
    elif f.get("no_reviews"):
        lines.append(
            _(
                "⚠️ <b>No monthly review was recorded in this period.</b> The cell has not "
                "reviewed its members' commitments, so there is nothing to report as progress."
            )
        )
    else:
        lines.append(
            _("<b>Monthly reviews</b> ({done} of {months} months)").format(
                done=f["months_reviewed"], months=f["months_started"]
            )
        )
        for row in f["months"]:
            month = month_label(t, row["month"])
            if not row["reviewed"]:
                lines.append(_("• {month}: ❗ not reviewed").format(month=month))
                continue
            meeting = "" if row["meeting"] else " " + _("(no meeting recorded)")
            if f.get("from_cells"):
                meeting = " · " + _("{met}/{n} cells met").format(
                    met=row.get("cells_met", 0), n=len(f.get("cells") or [])
                )
            lines.append(
                _("• {month}: {reviewed}/{roll} reviewed — {counts}{meeting}").format(
                    month=month,
                    reviewed=row["reviewed"],
                    roll=row["on_roll"],
                    counts=_counts_line(t, row),
                    meeting=meeting,
                )
            )
        lines.append(_("Total: {counts}").format(counts=_counts_line(t, f["totals"])))
    to_come = f["months_covered"] - f["months_started"]
    if to_come > 0:
        lines.append(
            t.ngettext(
                "{n} month of the period has not started yet.",
                "{n} months of the period have not started yet.",
                to_come,
            ).format(n=to_come)
        )
    if f.get("exempt"):
        lines.append(
            t.ngettext(
                "{n} exempt member (miễn sinh hoạt) is not reviewed monthly.",
                "{n} exempt members (miễn sinh hoạt) are not reviewed monthly.",
                f["exempt"],
            ).format(n=f["exempt"])
        )
    if f.get("no_reviews"):
        return lines
    lines.append("")
    lines.append(_("<b>New signs of degradation</b>"))
    if not f["new_signs"]:
        lines.append(_("None found."))
    for sign in f["new_signs"][:CHAT_LIST_MAX]:
        lines.append(
            _("• {name} — {month}, {group}: {description}. Measure: {measure}").format(
                name=h(sign["name"]),
                month=month_label(t, sign["month"]),
                group=h(group_label(t, sign["group"])),
                description=h(sign_words(sign)),
                measure=h(sign["measure"] or ""),
            )
        )
    _more(t, lines, f["new_signs"])
    lines.append("")
    lines.append(_("<b>Members who improved</b>"))
    if not f["improved"]:
        lines.append(_("None."))
    for item in f["improved"][:CHAT_LIST_MAX]:
        lines.append(
            _("• {name} — {month} (before: {before})").format(
                name=h(item["name"]),
                month=month_label(t, item["month"]),
                before=h(outcome_label(t, item["before"])),
            )
        )
    _more(t, lines, f["improved"])
    lines.append("")
    lines.append(_("<b>Members to keep following</b>"))
    if not f["watch"]:
        lines.append(_("None."))
    for item in f["watch"][:CHAT_LIST_MAX]:
        lines.append("• " + h(_watch_text(t, item)))
    _more(t, lines, f["watch"])
    return lines


def _watch_text(t: Translator, item: dict[str, Any]) -> str:
    text = t.ngettext(
        "{name} — since {month}, {n} month without progress",
        "{name} — since {month}, {n} months without progress",
        item["months"],
    ).format(name=item["name"], month=month_label(t, item["since"]), n=item["months"])
    if item.get("new_sign"):
        text += "; " + t.gettext("new sign of degradation")
        if item.get("group"):
            text += f" ({group_label(t, item['group'])})"
    if item.get("removal_ground"):
        text += "; " + t.gettext("⛔ not remedied for 12 months: a ground for removal")
    return text


def _more(t: Translator, lines: list[str], items: list[Any]) -> None:
    if len(items) > CHAT_LIST_MAX:
        rest = len(items) - CHAT_LIST_MAX
        lines.append(
            t.ngettext(
                "… and {n} more (see the .docx)", "… and {n} more (see the .docx)", rest
            ).format(n=rest)
        )


def _cells_sections(t: Translator, f: dict[str, Any]) -> list[DocSection]:
    """A committee's report opens with its cells' reports: who submitted, who has not."""
    if not f.get("from_cells"):
        return []
    _ = t.gettext
    cells = f.get("cells") or []
    section = DocSection(_("Reports of the cells under the committee"))
    section.paragraphs.append(
        t.ngettext(
            "{done} of {n} cell has submitted its report. The figures below add up the monthly "
            "reviews of all the cells.",
            "{done} of {n} cells have submitted their report. The figures below add up the "
            "monthly reviews of all the cells.",
            len(cells),
        ).format(done=f.get("cells_submitted", 0), n=len(cells))
    )
    if cells:
        section.tables.append(
            DocTable(
                headers=[_("Cell"), _("Report")],
                rows=[[c["name"], _cell_status(t, c)] for c in cells],
            )
        )
    return [section]


def _remedy_sections(t: Translator, v: ReportView) -> list[DocSection]:
    f = v.figures
    _ = t.gettext
    period = period_label(t, v.period)
    reviews = DocSection(_("Monthly reviews of the commitments"))
    committee = bool(f.get("from_cells"))
    if f.get("no_reviews"):
        reviews.paragraphs.append(
            (
                _(
                    "In {period} no cell under the committee recorded a monthly review of its "
                    "members' commitments; the results of remedying degradation could not be "
                    "assessed."
                )
                if committee
                else _(
                    "In {period} the cell recorded no monthly review of its members' "
                    "commitments; the results of remedying degradation could not be assessed."
                )
            ).format(period=period)
        )
    else:
        reviews.paragraphs.append(
            (
                _(
                    "In {period} the cells under the committee reviewed their members' "
                    "commitments in {done} of {months} months, with {reviews} member reviews: "
                    "{progressing} progressing (remedying well), {no_change} with no visible "
                    "change, {new_sign} with a new sign of degradation."
                )
                if committee
                else _(
                    "In {period} the cell reviewed its members' commitments in {done} of "
                    "{months} months, with {reviews} member reviews: {progressing} progressing "
                    "(remedying well), {no_change} with no visible change, {new_sign} with a "
                    "new sign of degradation."
                )
            ).format(
                period=period,
                done=f["months_reviewed"],
                months=f["months_started"],
                reviews=f["totals"]["reviews"],
                progressing=f["totals"]["progressing"],
                no_change=f["totals"]["no_change"],
                new_sign=f["totals"]["new_sign"],
            )
        )
        reviews.tables.append(
            DocTable(
                headers=[
                    _("Month"),
                    _("To review"),
                    _("Reviewed"),
                    _("Progressing"),
                    _("No change"),
                    _("New signs"),
                    _("Meeting"),
                ],
                rows=[
                    [
                        month_label(t, row["month"]),
                        str(row["on_roll"]),
                        str(row["reviewed"]),
                        str(row["progressing"]),
                        str(row["no_change"]),
                        str(row["new_sign"]),
                        _meeting_cell(t, f, row),
                    ]
                    for row in f["months"]
                ],
            )
        )
    if f.get("exempt"):
        reviews.paragraphs.append(
            t.ngettext(
                "{n} exempt member (miễn sinh hoạt) is not reviewed monthly.",
                "{n} exempt members (miễn sinh hoạt) are not reviewed monthly.",
                f["exempt"],
            ).format(n=f["exempt"])
        )
    sections = [*_cells_sections(t, f), reviews]
    signs = DocSection(_("New signs of degradation and the measures taken"))
    if f.get("no_reviews"):
        signs.paragraphs.append(_("Not assessed: no review was recorded."))
    elif not f["new_signs"]:
        signs.paragraphs.append(_("No new sign of degradation was found."))
    else:
        signs.tables.append(
            DocTable(
                headers=[_("Member"), _("Month"), _("Group"), _("Sign"), _("Measure")],
                rows=[
                    [
                        s["name"],
                        month_label(t, s["month"]),
                        group_label(t, s["group"]),
                        sign_words(s),
                        s["measure"] or "",
                    ]
                    for s in f["new_signs"]
                ],
            )
        )
        by_sign = signs_by_group_and_sign(f, t)
        if by_sign:
            signs.paragraphs.append(_("New signs by group and by sign:"))
            signs.tables.append(
                DocTable(headers=[_("Group"), _("Sign"), _("Number")], rows=by_sign)
            )
    sections.append(signs)
    improved = DocSection(_("Members who improved"))
    if f.get("no_reviews"):
        improved.paragraphs.append(_("Not assessed: no review was recorded."))
    elif not f["improved"]:
        improved.paragraphs.append(_("None."))
    for item in f["improved"]:
        improved.paragraphs.append(
            _("- {name}: progressing from {month} (before: {before}).").format(
                name=item["name"],
                month=month_label(t, item["month"]),
                before=outcome_label(t, item["before"]),
            )
        )
    sections.append(improved)
    watch = DocSection(_("Members to keep following"))
    if f.get("no_reviews"):
        watch.paragraphs.append(_("Not assessed: no review was recorded."))
    elif not f["watch"]:
        watch.paragraphs.append(_("None."))
    for item in f["watch"]:
        watch.paragraphs.append("- " + _watch_text(t, item) + ".")
    sections.append(watch)
    return sections


def _remedy_recipients(t: Translator, v: ReportView) -> list[str]:
    return [
        t.gettext("Standing office of the {top} (via the Inspection Committee);").format(
            top=v.top_name
        ),
        t.gettext("Filed at the party committee's office.")
        if v.figures.get("from_cells")
        else t.gettext("Filed at the cell."),
    ]


REMEDY = KindRenderer(
    subject=_remedy_subject,
    chat_body=_remedy_chat,
    doc_sections=_remedy_sections,
    recipients=_remedy_recipients,
)

#: Report kind code → how it renders, listed explicitly (the kinds: :mod:`storage.report_kinds`).
RENDERERS: dict[str, KindRenderer] = {
    "remedy_quarterly": REMEDY,
    "remedy_annual": REMEDY,
    "plan_annual": PLAN,
}


# --- The shared frame -------------------------------------------------------------------------


def status_line(t: Translator, v: ReportView, tz: ZoneInfo = LOCAL_TZ) -> str:
    """ "Status: submitted on 16/11/2026 (on time)" and the like, as HTML."""
    _ = t.gettext
    state = v.state(tz)
    if v.status is ReportStatus.SUBMITTED and v.submitted_at is not None:
        text = _("Status: <b>submitted</b> on {date} ({state}).").format(
            date=t.date(v.submitted_at.astimezone(tz)), state=_(STATE_LABELS[state])
        )
        if v.submissions > 1:
            text += " " + _("Submitted {n} times (after reopening).").format(n=v.submissions)
        return text
    if v.status is ReportStatus.REOPENED:
        return _("Status: <b>reopened for correction</b>: {reason}").format(
            reason=h(v.reopen_reason or "")
        )
    return _("Status: <b>draft</b> ({state}).").format(state=_(STATE_LABELS[state]))


def chat_text(t: Translator, v: ReportView, tz: ZoneInfo = LOCAL_TZ) -> str:
    """The report as an HTML chat message (≤ 4096 characters)."""
    _ = t.gettext
    renderer = RENDERERS[v.kind.code]
    lines = [
        f"<b>{h(_(v.kind.title))}</b> — {h(period_label(t, v.period))}",
        h(v.org_name),
        _("Due {due} · covers {start}–{end}").format(
            due=t.date(v.due_on), start=t.date(v.start), end=t.date(v.end)
        ),
        status_line(t, v, tz),
        "",
        *renderer.chat_body(t, v),
        "",
        _("<b>Assessment</b>"),
        h(v.assessment) if v.assessment else _("(none yet)"),
    ]
    text = "\n".join(lines)
    if len(text) > 4000:
        text = (
            "\n".join(lines[:4])
            + "\n\n"
            + _("The report is too long for a message; download the .docx to read it all.")
        )
    return text


def docx_bytes(v: ReportView, *, t: Translator | None = None, tz: ZoneInfo = LOCAL_TZ) -> bytes:
    """The report as a Word document in the Party's layout (Vietnamese by default).

    Reports are filed with the Party in Vietnamese, whatever language the secretary reads the
    bot in.
    """
    t = t or translator("vi")
    _ = t.gettext
    renderer = RENDERERS[v.kind.code]
    day = v.submitted_at.astimezone(tz).date() if v.submitted_at else v.today
    sections = renderer.doc_sections(t, v)
    assessment = DocSection(_("General assessment"))
    assessment.paragraphs.append(v.assessment or _("(no assessment)"))
    sections.append(assessment)
    return party_document(
        t=t,
        header=DocHeader(
            superior=v.superior_name,
            issuer=v.issuer_name or v.org_name,
            # TRANSLATORS: the number is left blank for the office's register; {abbr} is the
            # issuer's abbreviation (ĐUK, ĐU, CB)
            number=_("No.      -BC/{abbr}").format(abbr=v.doc_code),
            place=v.place,
            day=day,
        ),
        # TRANSLATORS: the document's title (printed in capitals: BÁO CÁO)
        title=_("Report"),
        subject=renderer.subject(t, v),
        sections=sections,
        recipients=renderer.recipients(t, v),
        signature=signing_block(t, v.signs_for, v.signer or ""),
    )


def docx_name(v: ReportView) -> str:
    """A file name for the report's .docx (ASCII, no personal data)."""
    return truncate(f"bao-cao-{v.kind.code}-{v.org_code}-{v.period.key}", 80) + ".docx"
