"""The admission pipeline rendered: JSON, chat lines, Word paragraphs and an Excel sheet.

Small and self-contained so the summary renderers only call in: the data comes ready from
:mod:`storage.candidates_summary` (``Summary.pipeline``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.i18n import N_, Translator
from domain.text import h, truncate
from storage.candidates_summary import Pipeline
from storage.summary import CANDIDATE_STAGES, PRIORITY_GROUPS

ENTERPRISE_STATUS: dict[str, str] = {
    "surveyed": N_("surveyed"),
    "working": N_("working with the owner"),
    "conditions_met": N_("conditions met (≥ 3 full members)"),
    "founded": N_("party organization founded"),
}
OVERDUE_WHAT: dict[str, str] = {
    "decision": N_("admission decision"),
    "ceremony": N_("admission ceremony"),
    "full_membership": N_("full-membership consideration"),
    "decision_breached": N_("admission decision (recorded after its deadline)"),
}


#: Names shown per stage on the candidates' screen (every name is on the names screen).
NAMES_PER_STAGE = 3


def _stage(code: str, t: Translator) -> str:
    return t.gettext(CANDIDATE_STAGES.get(code, code))


def _group(code: str, t: Translator) -> str:
    return t.gettext(PRIORITY_GROUPS.get(code, code))


def to_json(p: Pipeline | None) -> dict[str, Any] | None:
    """The pipeline for ``chibo summary --format json``."""
    if p is None:
        return None
    return {
        "by_cell": p.by_cell,
        "by_org_type": p.by_type,
        "by_grassroots": p.by_committee,
        "by_stage_and_priority_group": p.groups_by_stage,
        "lists": {
            stage: [
                {
                    "candidate_id": line.candidate_id,
                    "name": line.name,
                    "cell": line.cell_code,
                    "priority_groups": list(line.groups),
                }
                for line in lines
            ]
            for stage, lines in p.lists.items()
        },
        "enterprises_by_status": p.enterprises,
        "overdue": [
            {
                "candidate_id": o.candidate_id,
                "name": o.name,
                "cell": o.cell_code,
                "what": o.what,
                "due_on": o.due.isoformat(),
                "days_overdue": o.days,
            }
            for o in p.overdue
        ],
    }


def json_entry(p: Pipeline | None, tracked: bool) -> dict[str, Any]:
    """``{"pipeline": …}`` once candidates are tracked or enterprises recorded, else nothing."""
    if p is None or not (tracked or any((p.enterprises or {}).values())):
        return {}
    return {"pipeline": to_json(p)}


def overdue_lines(p: Pipeline | None, t: Translator, limit: int = 10) -> list[str]:
    """Overdue pipeline steps, for the leaders' view (HTML)."""
    if p is None or not p.overdue:
        return []
    _ = t.gettext
    lines = [
        "<b>"
        + h(
            t.ngettext(
                "{n} admission step overdue", "{n} admission steps overdue", len(p.overdue)
            ).format(n=len(p.overdue))
        )
        + "</b>"
    ]
    for o in p.overdue[:limit]:
        lines.append(
            "• "
            + h(
                _("{name} ({cell}): {what} due {date}, {days} days late").format(
                    name=truncate(o.name, 40),
                    cell=o.cell_code,
                    what=_(OVERDUE_WHAT[o.what]),
                    date=t.date(o.due),
                    days=o.days,
                )
            )
        )
    return lines


def chat_lines(p: Pipeline | None, t: Translator) -> list[str]:
    """The funnel per priority group, the first names by stage, enterprises and overdue steps
    (HTML); bounded whatever the size of the scope — the funnel per organization type, per
    grassroots organization and per cell, and every name, are paged screens of their own
    (:func:`funnel_page`, :func:`names_page`)."""
    if p is None:
        return []
    _ = t.gettext
    lines: list[str] = []
    if p.groups_by_stage:
        lines += ["", "<b>" + h(_("By stage and priority group")) + "</b>"]
        for stage, groups in p.groups_by_stage.items():
            parts = ", ".join(f"{_group(g, t)} {n}" for g, n in groups.items())
            lines.append(f"• {h(_stage(stage, t))}: {h(parts)}")
    if p.lists:
        lines += ["", "<b>" + h(_("Names by stage")) + "</b>"]
        for stage, people in p.lists.items():
            names = ", ".join(
                f"{truncate(x.name, 30)} ({x.cell_code})" for x in people[:NAMES_PER_STAGE]
            )
            extra = len(people) - NAMES_PER_STAGE
            more = f" +{extra}" if extra > 0 else ""
            lines.append(f"• {h(_stage(stage, t))}: {h(names)}{more}")
    if p.enterprises is not None:
        lines += ["", "<b>" + h(_("Non-state enterprises by status")) + "</b>"]
        for status, n in p.enterprises.items():
            lines.append(f"• {h(_(ENTERPRISE_STATUS[status]))}: {n}")
    over = overdue_lines(p, t, limit=5)
    if over:
        lines += ["", *over]
    return lines


#: Lines of a funnel or names page: 20 lines stay far below Telegram's 4,096 characters.
FUNNEL_PER_PAGE = 20
#: The funnel breakdowns: what each counts by, and its title.
FUNNEL_TITLES: dict[str, str] = {
    "type": N_("Candidates by organization type"),
    "committee": N_("Candidates by grassroots party organization"),
    "cell": N_("Candidates by cell"),
}


@dataclass(frozen=True)
class FunnelPage:
    """One page of a funnel breakdown or of the names: its lines, the group codes shown (for
    their buttons), the page and the number of pages."""

    lines: list[str]
    codes: list[str]
    page: int
    pages: int
    total: int


def _paged(n: int, page: int) -> tuple[int, int]:
    pages = max(1, -(-n // FUNNEL_PER_PAGE))
    return min(max(page, 0), pages - 1), pages


def funnel_page(
    p: Pipeline | None, t: Translator, by: str, names: dict[str, str], page: int
) -> FunnelPage:
    """The funnel per organization type (``by="type"``), per grassroots party organization
    (``"committee"``) or per cell (``"cell"``): one line per group with its candidates by
    stage, :data:`FUNNEL_PER_PAGE` groups a page. ``names``: group code → name shown."""
    counts = (
        {} if p is None else {"type": p.by_type, "committee": p.by_committee}.get(by, p.by_cell)
    )
    codes = list(counts)
    page, pages = _paged(len(codes), page)
    shown = codes[page * FUNNEL_PER_PAGE : (page + 1) * FUNNEL_PER_PAGE]
    lines = []
    for code in shown:
        stages = counts[code]
        label = names.get(code) or (t.gettext("not classified") if code == "-" else code)
        parts = ", ".join(f"{_stage(s, t)} {n}" for s, n in stages.items())
        total = sum(stages.values())
        lines.append(f"• <b>{h(truncate(label, 60))}</b> ({total}): {h(parts)}")
    return FunnelPage(lines, shown, page, pages, len(codes))


def names_page(p: Pipeline | None, t: Translator, page: int) -> FunnelPage:
    """Every candidate behind the funnel's figures, by stage then name, paged."""
    people = [x for lines in (p.lists.values() if p else []) for x in lines]
    page, pages = _paged(len(people), page)
    lines = []
    for x in people[page * FUNNEL_PER_PAGE : (page + 1) * FUNNEL_PER_PAGE]:
        groups = ", ".join(_group(g, t) for g in x.groups)
        line = f"• {h(truncate(x.name, 50))} ({h(x.cell_code)}) — {h(_stage(x.stage, t))}"
        lines.append(line + (f" · {h(groups)}" if groups else ""))
    return FunnelPage(lines, [], page, pages, len(people))


def doc_paragraphs(p: Pipeline | None, t: Translator) -> list[str]:
    """Plain paragraphs for the Word report's "Phát triển đảng viên" section."""
    if p is None:
        return []
    _ = t.gettext
    out: list[str] = []
    if p.by_committee:
        out.append(
            _("By grassroots party organization: {parts}.").format(
                parts="; ".join(
                    f"{code} "
                    + ", ".join(f"{_stage(s, t)} {t.number(n)}" for s, n in stages.items())
                    for code, stages in p.by_committee.items()
                )
            )
        )
    if p.enterprises is not None:
        out.append(
            _("Non-state enterprises by status: {parts}.").format(
                parts="; ".join(
                    f"{_(ENTERPRISE_STATUS[s])} {t.number(n)}" for s, n in p.enterprises.items()
                )
            )
        )
    if p.overdue:
        out.append(_("Admission steps overdue: {n}.").format(n=t.number(len(p.overdue))))
    return out


def add_sheet(wb: Any, p: Pipeline | None, t: Translator) -> None:
    """An Excel sheet "Phát triển đảng viên": stage × cell, stage × group, names, enterprises."""
    if p is None:
        return
    _ = t.gettext
    ws = wb.create_sheet(_("Admission pipeline")[:31])
    stages = [s for s in CANDIDATE_STAGES if any(s in v for v in p.by_cell.values())]
    ws.append([_("Cell"), *[_stage(s, t) for s in stages]])
    for cell, counts in p.by_cell.items():
        ws.append([cell, *[counts.get(s, 0) for s in stages]])
    ws.append([])
    groups = list(PRIORITY_GROUPS)
    ws.append([_("Stage"), *[_group(g, t) for g in groups]])
    for stage, counts in p.groups_by_stage.items():
        ws.append([_stage(stage, t), *[counts.get(g, 0) for g in groups]])
    ws.append([])
    ws.append([_("Stage"), _("Name"), _("Cell")])
    for stage, people in p.lists.items():
        for x in people:
            # A typed name never becomes a formula.
            name = ("'" + x.name) if x.name[:1] in "=+-@" else x.name
            ws.append([_stage(stage, t), name, x.cell_code])
    if p.enterprises is not None:
        ws.append([])
        for status, n in p.enterprises.items():
            ws.append([_(ENTERPRISE_STATUS[status]), n])
    if p.overdue:
        ws.append([])
        ws.append([_("Overdue"), _("Name"), _("Cell"), _("Due")])
        for o in p.overdue:
            ws.append([_(OVERDUE_WHAT[o.what]), o.name, o.cell_code, o.due.isoformat()])
