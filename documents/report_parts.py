"""What every report renderer shares: the domain's words for outcomes, sign groups, report states
and statuses, period and month labels, and the shape of a report kind's renderer
(:class:`KindRenderer`). The renderers themselves (:mod:`documents.reports` for the remedy
reports, :mod:`documents.summary_plan` for the annual plan report) build on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from documents.layout import DocSection, Signature
from domain.i18n import N_, Translator
from domain.rules.periods import Period
from domain.rules.reviews import ReportState
from storage.doc_names import Signer
from storage.models import ReportStatus, ReviewOutcome, SignGroup
from storage.reports import ReportView

OUTCOME_LABELS: dict[ReviewOutcome, str] = {
    ReviewOutcome.PROGRESSING: N_("progressing (remedying well)"),
    ReviewOutcome.NO_CHANGE: N_("no visible change"),
    ReviewOutcome.NEW_SIGN: N_("new sign of degradation"),
}
OUTCOME_ICONS: dict[ReviewOutcome, str] = {
    ReviewOutcome.PROGRESSING: "✅",
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
