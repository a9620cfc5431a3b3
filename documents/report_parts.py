"""What every report renderer shares: the domain's words for outcomes, sign groups, report states
and statuses, period and month labels, and the shape of a report kind's renderer
(:class:`KindRenderer`). The renderers themselves (:mod:`documents.reports` for the remedy
reports, :mod:`documents.summary_plan` for the annual plan report) build on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from documents.layout import DocSection, Signature
from domain.i18n import N_, Translator
from domain.rules.periods import Period
from domain.rules.reviews import ReportState
from domain.rules.signs import PREFIXES
from storage.doc_names import Signer
from storage.models import ReportStatus, ReviewOutcome, SignGroup
from storage.reports import ReportView

#: The plan's words for the head's monthly comment (Quy định 4842-QĐ/TU, khoản 3 điều 4).
OUTCOME_LABELS: dict[ReviewOutcome, str] = {
    ReviewOutcome.REMEDIED: N_("remedied"),
    ReviewOutcome.PROGRESSING: N_("being remedied"),
    ReviewOutcome.NO_CHANGE: N_("not remedied"),
    ReviewOutcome.NEW_SIGN: N_("new sign of degradation found"),
}
OUTCOME_ICONS: dict[ReviewOutcome, str] = {
    ReviewOutcome.REMEDIED: "✅",
    ReviewOutcome.PROGRESSING: "🔄",
    ReviewOutcome.NO_CHANGE: "➖",
    ReviewOutcome.NEW_SIGN: "⚠️",
}
GROUP_LABELS: dict[SignGroup, str] = {
    SignGroup.POLITICAL: N_("political ideology"),
    SignGroup.ETHICS: N_("ethics and lifestyle"),
    SignGroup.SELF_EVOLUTION: N_('"self-evolution", "self-transformation"'),
}
STATE_LABELS: dict[ReportState, str] = {
    ReportState.ON_TIME: N_("on time"),
    # TRANSLATORS: a report submitted after its due date
    ReportState.LATE: N_("late"),
    ReportState.MISSING: N_("missing (overdue)"),
    ReportState.NOT_DUE: N_("not due yet"),
}
STATE_ICONS: dict[ReportState, str] = {
    ReportState.ON_TIME: "✅",
    ReportState.LATE: "🕒",
    ReportState.MISSING: "❌",
    ReportState.NOT_DUE: "⏳",
}
STATUS_LABELS: dict[ReportStatus, str] = {
    # TRANSLATORS: a report not yet submitted
    ReportStatus.DRAFT: N_("draft"),
    ReportStatus.SUBMITTED: N_("submitted"),
    ReportStatus.REOPENED: N_("reopened for correction"),
}


def outcome_label(t: Translator, outcome: ReviewOutcome | str) -> str:
    """The domain's words for a review outcome."""
    return t.gettext(OUTCOME_LABELS[ReviewOutcome(outcome)])


def group_label(t: Translator, group: SignGroup | str | None) -> str:
    """The name of a group of signs of degradation ("" when unknown)."""
    return t.gettext(GROUP_LABELS[SignGroup(group)]) if group else ""


def sign_words(sign: dict[str, Any]) -> str:
    """A new sign as the report names it: the sign's wording (picked from the 27 signs), then
    the short note; an older record has only its typed description."""
    parts = [sign.get("sign_text") or sign.get("sign") or "", sign.get("description") or ""]
    return " — ".join(p.rstrip(". ") for p in parts if p)


def signs_by_group_and_sign(figures: dict[str, Any], t: Translator) -> list[list[str]]:
    """Rows (group, sign, number) of the new signs found, in the resolution's order, with a
    subtotal row per group; signs recorded before the list count under their group only."""
    by_sign: dict[str, int] = figures.get("by_sign") or {}
    texts: dict[str, str] = figures.get("sign_texts") or {}
    unlisted: dict[str, int] = {}
    for s in figures.get("new_signs", []):
        if not s.get("sign") and s.get("group"):
            unlisted[s["group"]] = unlisted.get(s["group"], 0) + 1
    rows: list[list[str]] = []
    for prefix, group in PREFIXES.items():
        codes = sorted((c for c in by_sign if c.startswith(prefix)), key=lambda c: int(c[2:]))
        total = sum(by_sign[c] for c in codes) + unlisted.get(group.value, 0)
        if not total:
            continue
        rows.append([group_label(t, group.value), t.gettext("All signs of the group"), str(total)])
        for code in codes:
            rows.append(["", f"{code[2:]}. {texts.get(code, code)}", str(by_sign[code])])
        if unlisted.get(group.value):
            rows.append(["", t.gettext("(not picked from the list)"), str(unlisted[group.value])])
    return rows


def period_label(t: Translator, period: Period) -> str:
    """ "quý IV/2026", "năm 2026", "11/2026"."""
    if period.kind == "quarter":
        roman = {1: "I", 2: "II", 3: "III", 4: "IV"}[period.index]
        return t.gettext("quarter {q}/{year}").format(q=roman, year=period.year)
    if period.kind == "year":
        return t.gettext("year {year}").format(year=period.year)
    return t.month(period.year, period.index)


def month_label(t: Translator, key: str) -> str:
    """ "2026-10" → "10/2026"."""
    year, month = key.split("-")
    return t.month(int(year), int(month))


@dataclass(frozen=True)
class KindRenderer:
    """How one report kind renders its figures."""

    subject: Callable[[Translator, ReportView], str]
    chat_body: Callable[[Translator, ReportView], list[str]]
    doc_sections: Callable[[Translator, ReportView], list[DocSection]]
    recipients: Callable[[Translator, ReportView], list[str]]


#: The signing block's first line, by on whose behalf the secretary signs.
SIGNING_BLOCKS: dict[Signer, str] = {
    # TRANSLATORS: "T/M BAN THƯỜNG VỤ" in a Party document
    Signer.STANDING_BOARD: N_("On behalf of the Standing Board"),
    # TRANSLATORS: "T/M ĐẢNG ỦY" in a Party document
    Signer.PARTY_COMMITTEE: N_("On behalf of the party committee"),
    # TRANSLATORS: "T/M CHI ỦY" in a Party document
    Signer.CELL_COMMITTEE: N_("On behalf of the cell committee"),
    # TRANSLATORS: "T/M CHI BỘ" in a Party document: a cell without a committee
    Signer.CELL: N_("On behalf of the cell"),
}


def signing_block(t: Translator, signer: Signer, name: str = "") -> Signature:
    """ "T/M CHI ỦY / BÍ THƯ" and the like, with the signer's name when known."""
    return Signature(t.gettext(SIGNING_BLOCKS[signer]), t.gettext("Secretary"), name)
