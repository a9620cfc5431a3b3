"""The /meeting, /meetings and /model buttons (one declaration per family) and names."""

from __future__ import annotations

from datetime import date

from domain.i18n import N_
from domain.rules.meetings import CONTENT_ITEMS, UNEXCUSED, QualityGrade
from handlers import base
from handlers.base import (
    Env,
)
from handlers.callbacks import CODE, DAY, ID, Family, choice
from storage import meetings as m
from storage.meetings import State
from storage.models import AbsenceReason, MeetingKind

# The screens of the meeting flows are built row by row (shared with other features).
Rows = base.Rows
Screen = base.RowScreen

KIND_NAMES: dict[MeetingKind, str] = {
    MeetingKind.REGULAR: N_("Regular monthly meeting"),
    MeetingKind.THEMATIC: N_("Thematic meeting"),
    MeetingKind.COMBINED: N_("Regular + thematic meeting"),
    MeetingKind.COMMITTEE: N_("Committee meeting"),
    MeetingKind.EXTRAORDINARY: N_("Extraordinary meeting"),
}


KIND_ORDER = list(KIND_NAMES)


REASON_NAMES: dict[str, str] = {
    AbsenceReason.TRIP.value: N_("business trip"),
    AbsenceReason.ILLNESS.value: N_("illness"),
    AbsenceReason.FAMILY.value: N_("family"),
    AbsenceReason.STUDY.value: N_("study"),
    AbsenceReason.OTHER.value: N_("other reason"),
    UNEXCUSED: N_("no valid reason"),
}


REASON_ICONS = {"trip": "🧳", "illness": "🤒", "family": "👪", "study": "📚", "other": "📝"}


CONTENT_NAMES: dict[str, str] = {
    "criticism": N_("Criticism and self-criticism"),
    "ho_chi_minh": N_("Studying and following Hồ Chí Minh"),
    "commitments": N_("Monthly review of commitments"),
    "new_members": N_("New-member work"),
    "current_affairs": N_("Current affairs"),
}


GRADE_NAMES: dict[QualityGrade, str] = {
    QualityGrade.GOOD: N_("good"),
    QualityGrade.FAIR: N_("fair"),
    QualityGrade.AVERAGE: N_("average"),
    QualityGrade.POOR: N_("poor"),
}


SECTION_LABELS: dict[str, str] = {
    "kind": N_("✏️ Kind"),
    "date": N_("✏️ Date"),
    "attendance": N_("✏️ Attendance"),
    "reasons": N_("✏️ Reasons"),
    "guests": N_("✏️ Guests"),
    "content": N_("✏️ Content"),
}


_ON = choice("0", "1")


MTG_CELL = Family("mtg:cell", (ID, ID))


MTG_KIND = Family("mtg:kind", (ID, choice(*(k.value for k in MeetingKind))))


MTG_TOPIC = Family("mtg:topic", (ID,))


MTG_DUR = Family("mtg:dur", (ID, ID))


MTG_GO = Family("mtg:go", (ID, choice(*(s.value for s in State))))


MTG_DATE = Family("mtg:date", (ID, DAY))


MTG_DATEOK = Family("mtg:dateok", (ID, DAY))


MTG_ABS = Family("mtg:abs", (ID, ID))


MTG_PRE = Family("mtg:pre", (ID, ID))


MTG_ALL = Family("mtg:all", (ID,))


MTG_LAST = Family("mtg:last", (ID,))


MTG_PAGE = Family("mtg:page", (ID, ID))


MTG_ATTOK = Family("mtg:attok", (ID,))


MTG_RSN = Family("mtg:rsn", (ID, ID, choice(*REASON_NAMES)))


MTG_RSNOK = Family("mtg:rsnok", (ID,))


MTG_FOL = Family("mtg:fol", (ID, ID))


MTG_UNG = Family("mtg:ung", (ID, CODE))


MTG_OG = Family("mtg:og", (ID, ID))


MTG_GOK = Family("mtg:gok", (ID,))


MTG_CT = Family("mtg:ct", (ID, choice(*CONTENT_ITEMS), _ON))


MTG_NOMIN = Family("mtg:nomin", (ID,))


MTG_COK = Family("mtg:cok", (ID,))


MTG_QSKIP = Family("mtg:qskip", (ID,))


MTG_CHG = Family("mtg:chg", (ID, choice(*m.SECTIONS)))


MTG_NEW = Family("mtg:new", (ID,))


MTG_SAVE = Family("mtg:save", (ID,))


MTG_X = Family("mtg:x", (ID,))


MTG_CELLS = Family("mtg:cells", (ID,))


MTG_LIST = Family("mtg:list", (ID,))


MTG_LIST_OWN = Family("mtg:list")


MTG_OPEN = Family("mtg:open", (ID,))


MTG_FILE = Family("mtg:file", (ID,))


MTG_FIX = Family("mtg:fix", (ID,))


MTG_DEL = Family("mtg:del", (ID,))


MTG_DELY = Family("mtg:dely", (ID,))


MDL_CELL = Family("mdl:cell", (ID,))


MDL_NEW = Family("mdl:new", (ID,))


MDL_RV = Family("mdl:rv", (ID,))


MDL_CP = Family("mdl:cp", (ID,))


MDL_RM = Family("mdl:rm", (ID,))


MDL_RMY = Family("mdl:rmy", (ID,))


MDL_X = Family("mdl:x", (ID,))


def _reason(env: Env, code: str) -> str:
    """The translated name of a reason code ("illness" → "ốm đau")."""
    return env.t.gettext(REASON_NAMES.get(code, REASON_NAMES["other"]))


def _ddmm(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}"


def _cancel_row(env: Env, draft_id: int) -> list[tuple[str, str]]:
    return [(env.t.gettext("✖ Cancel"), MTG_X.data(draft_id))]
