"""/candidates: its buttons, one typed declaration per family (data string, pattern, parser)."""

from __future__ import annotations

from domain.errors import StaleAction
from domain.vocab import CandidateStage, Gender, IntroducerForm, PriorityGroup
from handlers.callbacks import DAY, ID, YEAR, Family, Field, choice, member_of

#: A month of birth, 0 for "unknown".
BIRTH_MONTH = Field(r"(?:1[0-2]|[0-9])", int)
LIST = Family("cnd:list", (ID,))
OPEN = Family("cnd:open", (ID,))
ADD = Family("cnd:add", (ID,))
CONSIDER = Family("cnd:cons", (ID,))
MOVE = Family("cnd:mv", (ID, ID, member_of(CandidateStage)))
EXTEND = Family("cnd:ext", (ID, ID))
#: Redo the introductions of a file left unconsidered too long (file, version).
REDO = Family("cnd:redo", (ID, ID))
CANCEL = Family("cnd:x", (ID,))
MEETING = Family("cnd:mtg", (ID, choice("y", "n")))
# The conversation's steps: the conversation key first, then what the step records.
GENDER = Family("cnd:g", (ID, member_of(Gender)))
DECADE = Family("cnd:dec", (ID, YEAR))
BACK = Family("cnd:back", (ID,))
BIRTH_YEAR = Family("cnd:y", (ID, YEAR))
BIRTH_MON = Family("cnd:mo", (ID, BIRTH_MONTH))
DUP_OK = Family("cnd:dupok", (ID,))
UNIT = Family("cnd:u", (ID, ID))
GROUP = Family("cnd:grp", (ID, member_of(PriorityGroup)))
SAVE = Family("cnd:save", (ID,))
TICK = Family("cnd:ct", (ID, ID, choice("cls", "prop")))
CONSIDER_MONTH = Family("cnd:cmo", (ID,))
CONSIDER_RECORD = Family("cnd:crec", (ID,))
STEP_DAY = Family("cnd:d", (ID, DAY))
FORM = Family("cnd:f", (ID, member_of(IntroducerForm)))
INTRODUCER = Family("cnd:im", (ID, ID))
INTRODUCERS_OK = Family("cnd:iok", (ID,))
APPROVAL = Family("cnd:ap", (ID,))


def _stage(value: str) -> CandidateStage:
    """A stage kept in the draft (written by the bot itself; a bad one is a stale button)."""
    try:
        return CandidateStage(value)
    except ValueError as exc:
        raise StaleAction() from exc
