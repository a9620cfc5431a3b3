"""The annual report on carrying out the plan: how one cell's report renders
(:data:`PLAN`, listed in :data:`documents.reports.RENDERERS`) and the Khối's roll-up as Word.
"""

from __future__ import annotations

from typing import Any

from documents.layout import DocHeader, DocSection, party_document
from documents.report_parts import GROUP_LABELS, KindRenderer
from documents.summary_docx import recipients, signature
from documents.summary_words import month_list, rate_text, stage_name, three_months_text
from domain.i18n import Translator
from domain.text import h
from storage.models import SignGroup
from storage.summary import (
    DocumentMeta,
)


def _plan_subject(t: Translator, v: Any) -> str:
    return t.gettext("Results of carrying out Plan 12-KH/ĐUK, year {year}").format(
        year=v.period.year
    )


def _plan_lines(t: Translator, f: dict[str, Any]) -> list[tuple[str, str]]:
    """(heading msgid, text) of the plan report's figures, shared by chat and document."""
    _ = t.gettext
    started = int(f.get("months_started", 0))
    missing = [
        (int(y), int(m)) for y, m in (key.split("-") for key in f.get("months_missing", []))
    ]
    regular = _("Regular meetings held in {held} of {months} months.").format(
        held=f.get("regular_held", 0), months=started
    )
    if missing:
        regular += " " + _("Not held: {months}.").format(months=month_list(missing, t))
    flagged = f.get("flagged") or []
    three = three_months_text(t, len(flagged), int(f.get("warned", 0)))
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
                rate=rate_text(t, int(f.get("present", 0)), int(f.get("required", 0))),
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
                rate=rate_text(t, int(f.get("reviews_done", 0)), int(f.get("reviews_due", 0))),
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


#: How the annual plan report renders (listed in :data:`documents.reports.RENDERERS`).
PLAN = KindRenderer(
    subject=_plan_subject,
    chat_body=_plan_chat,
    doc_sections=_plan_sections,
    recipients=_plan_recipients,
)


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
                rate=rate_text(t, tt["regular_held"], tt["months_started"]),
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
                rate=rate_text(t, tt["present"], tt["required"]),
                unexcused=t.number(tt["unexcused"]),
                flagged=t.number(r.flagged),
            ),
            _("Monthly commitment reviews: {done} of {due} ({rate}).").format(
                done=t.number(tt["reviews_done"]),
                due=t.number(tt["reviews_due"]),
                rate=rate_text(t, tt["reviews_done"], tt["reviews_due"]),
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
