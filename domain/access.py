"""Who may do what: commands per role, and which roles read the whole organization.

Leaders read; secretaries write for their own cells (DOMAIN.md, "Roles").
"""

from __future__ import annotations

from collections.abc import Iterable

from domain.i18n import N_
from domain.vocab import Role

#: Roles that manage a cell's records (meetings, reviews, reports, models).
CELL_WRITERS = frozenset({Role.SECRETARY, Role.DEPUTY})
#: Roles that read the cell's records without writing them.
CELL_READERS = CELL_WRITERS | {Role.COMMITTEE_MEMBER, Role.FOLLOWER, Role.GRASSROOTS_SECRETARY}
#: Roles held at the top organization that see everything below it.
LEADERS = frozenset(
    {Role.STANDING, Role.INSPECTION, Role.ORGANIZATION, Role.PROPAGANDA, Role.ADMIN}
)
EVERYONE = frozenset(Role)

#: Command → roles that may use it. Order is the order /help lists them.
COMMAND_ROLES: dict[str, frozenset[Role]] = {
    "meeting": CELL_WRITERS,
    "meetings": CELL_READERS | LEADERS,
    "review": CELL_WRITERS,
    "commitments": CELL_WRITERS | {Role.COMMITTEE_MEMBER},
    "model": CELL_WRITERS,
    "report": CELL_WRITERS | {Role.GRASSROOTS_SECRETARY} | LEADERS,
    "candidates": CELL_WRITERS,
    "enterprises": LEADERS,
    "summary": EVERYONE,
    "deadlines": EVERYONE,
    "settings": EVERYONE,
    "language": EVERYONE,
    "cancel": EVERYONE,
    "help": EVERYONE,
}

#: Vietnamese aliases (Telegram commands are Latin letters, digits and underscores only).
ALIASES: dict[str, str] = {
    "sinhhoat": "meeting",
    "camket": "review",
    "baocao": "report",
    "tonghop": "summary",
    "hanchot": "deadlines",
    "ngonngu": "language",
    "huy": "cancel",
    "trogiup": "help",
    "camtinh": "candidates",
    "doanhnghiep": "enterprises",
}


def may_use(command: str, roles: Iterable[Role]) -> bool:
    """Tell whether any of ``roles`` may use ``command``."""
    allowed = COMMAND_ROLES.get(ALIASES.get(command, command), frozenset())
    return any(role in allowed for role in roles)


def commands_for(roles: Iterable[Role]) -> list[str]:
    """The commands a person with ``roles`` may use, in /help order."""
    held = set(roles)
    return [cmd for cmd, allowed in COMMAND_ROLES.items() if held & allowed]


def is_leader(roles: Iterable[Role]) -> bool:
    """Tell whether any role reads the whole organization."""
    return any(role in LEADERS for role in roles)


#: Command → description (msgid) for /help and Telegram's command menu.
COMMAND_HELP: dict[str, str] = {
    "meeting": N_("log a cell meeting and its attendance"),
    "meetings": N_("the cell's recent meetings"),
    "review": N_("monthly review of members' commitments"),
    "commitments": N_("members' commitments for the year"),
    "model": N_("the cell's Hồ Chí Minh study model"),
    "report": N_("draft and submit reports"),
    "candidates": N_("sympathizer list and candidates for admission"),
    "enterprises": N_("non-state enterprises the steering group works with"),
    "summary": N_("status of the cells in your scope"),
    "deadlines": N_("what is due in the next 30 days"),
    "settings": N_("reminder settings"),
    "language": N_("change language (Tiếng Việt / English)"),
    "cancel": N_("leave the current conversation"),
    "help": N_("what you can do here"),
}

#: Role → its name (msgid), for greetings and lists.
ROLE_NAMES: dict[Role, str] = {
    Role.SECRETARY: N_("cell secretary"),
    Role.DEPUTY: N_("deputy cell secretary"),
    Role.COMMITTEE_MEMBER: N_("cell committee member"),
    Role.GRASSROOTS_SECRETARY: N_("secretary of the grassroots party committee"),
    Role.FOLLOWER: N_("superior committee member following the cell"),
    Role.STANDING: N_("Standing Board / Standing office"),
    Role.INSPECTION: N_("Inspection Committee"),
    Role.ORGANIZATION: N_("Organization Board"),
    Role.PROPAGANDA: N_("Propaganda Board"),
    Role.ADMIN: N_("system administrator"),
}
