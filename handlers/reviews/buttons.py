"""The /review and /commitments buttons (one declaration per family), names and shared helpers."""

from __future__ import annotations

from sqlalchemy.orm import Session

from domain import access
from domain.errors import InvalidInput
from domain.i18n import N_
from domain.rules import reviews as rules
from domain.rules.periods import PeriodError, parse_period
from domain.rules.signs import PREFIXES
from domain.text import truncate
from handlers.base import Env
from handlers.callbacks import ID, MONTH, YEAR, Family, choice
from storage import access as access_facts
from storage.models import MemberStatus, ReviewOutcome, SignGroup

PAGE = 30  # members per screen (two per row)


NAME_MAX = 28


OUTCOME_CODES = {
    "r": ReviewOutcome.REMEDIED,
    "p": ReviewOutcome.PROGRESSING,
    "n": ReviewOutcome.NO_CHANGE,
    "s": None,
}


GROUP_CODES = {
    "pol": SignGroup.POLITICAL,
    "eth": SignGroup.ETHICS,
    "sel": SignGroup.SELF_EVOLUTION,
}


GROUP_CODE_OF = {g: c for c, g in GROUP_CODES.items()}


STATUS_LABELS = {
    MemberStatus.FULL: N_("full member"),
    MemberStatus.PROBATIONARY: N_("probationary"),
    MemberStatus.EXEMPT: N_("exempt (miễn sinh hoạt)"),
    MemberStatus.TRANSFERRED: N_("transferred out"),
    MemberStatus.REMOVED: N_("removed"),
}


_GROUP = choice(*GROUP_CODES)


#: The stable code of one of the 27 signs of degradation (``TT1`` … ``TD9``).
SIGN = choice(*(f"{prefix}{n}" for prefix in PREFIXES for n in range(1, 10)))


REV_CELL = Family("rev:cell", (ID, YEAR, MONTH))


REV_M = Family("rev:m", (ID, ID))


REV_O = Family("rev:o", (ID, ID, choice(*OUTCOME_CODES)))


REV_G = Family("rev:g", (ID, ID, _GROUP))


REV_SG = Family("rev:sg", (ID, ID, SIGN))


REV_C = Family("rev:c", (ID, ID))


REV_CX = Family("rev:cx", (ID, ID))


REV_B = Family("rev:b", (ID,))


REV_PG = Family("rev:pg", (ID, ID))


REV_MO = Family("rev:mo", (ID, YEAR, MONTH))


REV_W = Family("rev:w", (ID,))


REV_ALL = Family("rev:all", (ID,))


REV_END = Family("rev:end", (ID,))


CMT_CELL = Family("cmt:cell", (ID, YEAR))


CMT_M = Family("cmt:m", (ID, ID))


CMT_T = Family("cmt:t", (ID, ID))


CMT_D = Family("cmt:d", (ID, ID))


CMT_I = Family("cmt:i", (ID, ID, choice(*GROUP_CODES, "x")))


CMT_IG = Family("cmt:ig", (ID, ID, _GROUP))


CMT_IX = Family("cmt:ix", (ID, ID))


CMT_PUB = Family("cmt:pub", (ID, ID, choice("0", "1")))


CMT_B = Family("cmt:b", (ID,))


CMT_PG = Family("cmt:pg", (ID, ID))


CMT_ALL = Family("cmt:all", (ID,))


CMT_END = Family("cmt:end", (ID,))


def writer_cells(session: Session, env: Env) -> dict[int, str]:
    """The cells the person manages (secretary or deputy), id → name, read in ``session``."""
    who = access_facts.holder(session, env.person_id)
    return {c.id: c.name for c in access.writable_cells(who)}


def reader_cells(session: Session, env: Env) -> dict[int, str]:
    """The cells whose commitments the person reads (secretary, deputy or committee member)."""
    who = access_facts.holder(session, env.person_id)
    return {c.id: c.name for c in access.commitment_cells(who)}


def require_writer(session: Session, env: Env, org_id: int, command_name: str = "review") -> None:
    """Check again, on every press and in the step's transaction, that the person may write
    this cell's records."""
    access.require_write(access_facts.holder(session, env.person_id), org_id, command_name)


def _name(name: str) -> str:
    return truncate(name, NAME_MAX)


def _status_note(env: Env, status: MemberStatus) -> str:
    return "" if status is MemberStatus.FULL else f" ({env.t.gettext(STATUS_LABELS[status])})"


def _month_arg(env: Env, args: list[str]) -> tuple[int, int]:
    today = env.today()
    if not args:
        return today.year, today.month
    try:
        period = parse_period(args[0])
    except PeriodError as exc:
        raise InvalidInput(N_("Please give a month like 10/2026.")) from exc
    if period.kind != "month":
        raise InvalidInput(N_("Please give a month like 10/2026."))
    rules.check_review_month(period.year, period.index, today)
    return period.year, period.index
