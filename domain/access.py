"""Who may see and do what: the one access policy of chibo.

Leaders read; secretaries write for their own cells (DOMAIN.md, "Organizations and people").
Every decision of which organizations and members a person may read or write, which commands
they are offered, and who receives which reminder, digest or notice is a plain function here.
The functions decide on facts the caller gathered *inside the use case's own transaction*
(:class:`Holder`: the person's active role assignments and the organizations at or below
them, loaded by :func:`storage.access.holder`) — never on an identity loaded earlier.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from domain.errors import NotAllowed, NotInScope
from domain.i18n import N_
from domain.vocab import OrgKind, Role

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


def command_name(command: str, locale: str) -> str:
    """How a command is written to a person: its Vietnamese alias in Vietnamese text."""
    if locale == "vi":
        return next((alias for alias, english in ALIASES.items() if english == command), command)
    return command


def may_use(command: str, roles: Iterable[Role]) -> bool:
    """Tell whether any of ``roles`` may use ``command``."""
    allowed = COMMAND_ROLES.get(ALIASES.get(command, command), frozenset())
    return any(role in allowed for role in roles)


def commands_for(roles: Iterable[Role]) -> list[str]:
    """The commands a person with ``roles`` may use, in /help order."""
    held = set(roles)
    return [cmd for cmd, allowed in COMMAND_ROLES.items() if held & allowed]


def menu_for(roles: Iterable[Role]) -> list[str] | None:
    """The command menu of a person with ``roles``; None for the default menu (no role)."""
    held = set(roles)
    return commands_for(held) if held else None


def default_menu() -> list[str]:
    """The menu everyone is offered, strangers included: the commands every role has."""
    return [cmd for cmd, allowed in COMMAND_ROLES.items() if allowed == EVERYONE]


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


# --- The facts a decision is made on -------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """One active role assignment: ``role`` held in organization ``org_id``."""

    role: Role
    org_id: int


@dataclass(frozen=True)
class OrgNode:
    """What the policy needs of an organization."""

    id: int
    parent_id: int | None
    kind: OrgKind
    code: str = ""
    name: str = ""
    active_from: date | None = None
    active_to: date | None = None

    def active_on(self, day: date | None) -> bool:
        """Tell whether the organization exists on ``day`` (None: any day)."""
        if day is None:
            return True
        return (self.active_from is None or self.active_from <= day) and (
            self.active_to is None or self.active_to >= day
        )


@dataclass(frozen=True)
class Holder:
    """A person's active role assignments and every organization at or below them."""

    person_id: int
    grants: tuple[Grant, ...]
    orgs: Mapping[int, OrgNode] = field(default_factory=dict)

    @property
    def roles(self) -> frozenset[Role]:
        """The kinds of role held, anywhere."""
        return frozenset(g.role for g in self.grants)

    def roots(self, roles: Collection[Role] | None = None) -> frozenset[int]:
        """The organizations where the person holds one of ``roles`` (None: any role)."""
        return frozenset(g.org_id for g in self.grants if roles is None or g.role in roles)


def subtree(orgs: Mapping[int, OrgNode], roots: Iterable[int]) -> set[int]:
    """``roots`` and every organization below them, among ``orgs``."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for node in orgs.values():
        children[node.parent_id].append(node.id)
    seen: set[int] = set()
    todo = [r for r in roots if r in orgs]
    while todo:
        oid = todo.pop()
        if oid in seen:
            continue
        seen.add(oid)
        todo.extend(children.get(oid, ()))
    return seen


def _cells(orgs: Mapping[int, OrgNode], ids: Iterable[int], on: date | None) -> list[OrgNode]:
    nodes = [orgs[i] for i in ids if i in orgs]
    return sorted(
        (n for n in nodes if n.kind.holds_meetings and n.active_on(on)), key=lambda n: n.code
    )


# --- Reading and writing a cell's records --------------------------------------------------------


def writable_cells(who: Holder) -> list[OrgNode]:
    """The cells whose records the person writes: secretary or deputy of the cell itself."""
    return _cells(who.orgs, who.roots(CELL_WRITERS), None)


def may_write(who: Holder, org_id: int) -> bool:
    """Tell whether the person may write the records (meetings, reviews, reports, models)
    of cell ``org_id``."""
    return any(c.id == org_id for c in writable_cells(who))


def require_write(who: Holder, org_id: int, command: str | None = None) -> None:
    """Raise :class:`NotAllowed` (the command is not theirs) or :class:`NotInScope` (not their
    cell) unless the person may write cell ``org_id``'s records through ``command``."""
    if command is not None and not may_use(command, who.roles):
        raise NotAllowed()
    if not may_write(who, org_id):
        raise NotInScope()


#: Who drafts, submits and reopens a grassroots party committee's own report.
COMMITTEE_REPORTERS = frozenset({Role.GRASSROOTS_SECRETARY})


def report_orgs(who: Holder) -> list[OrgNode]:
    """The organizations whose own reports the person drafts, submits and reopens: the cells
    they write for, and the grassroots party committees they are secretary of
    (domain.rules.reporting)."""
    committees = [
        who.orgs[i]
        for i in who.roots(COMMITTEE_REPORTERS)
        if i in who.orgs and who.orgs[i].kind is OrgKind.COMMITTEE
    ]
    return [*writable_cells(who), *sorted(committees, key=lambda n: n.code)]


def require_report_write(who: Holder, org_id: int) -> OrgNode:
    """The organization ``org_id`` when the person may write its own report in /report;
    :class:`NotAllowed` (not their command) or :class:`NotInScope` (not theirs) otherwise."""
    if not may_use("report", who.roles):
        raise NotAllowed()
    for node in report_orgs(who):
        if node.id == org_id:
            return node
    raise NotInScope()


def readable_cells(who: Holder, *, on: date | None = None) -> list[OrgNode]:
    """The cells whose records the person reads: at or below any organization where they hold
    a role (leaders on the top organization read every cell). ``on``: active on that day."""
    return _cells(who.orgs, subtree(who.orgs, who.roots()), on)


def may_read(who: Holder, org_id: int) -> bool:
    """Tell whether the person may read cell ``org_id``'s records."""
    return any(c.id == org_id for c in readable_cells(who))


def commitment_cells(who: Holder) -> list[OrgNode]:
    """The cells whose commitments list the person reads without writing it: their own cell
    as secretary, deputy or committee member."""
    return _cells(who.orgs, who.roots(CELL_WRITERS | {Role.COMMITTEE_MEMBER}), None)


#: Who sees the cells' report standing: leaders at the top and grassroots committee secretaries.
STANDING_ROLES = LEADERS | {Role.GRASSROOTS_SECRETARY}
#: Who sees the members under watch across cells (the Inspection Committee).
WATCH_ROLES = frozenset({Role.INSPECTION})


def standing_cells(who: Holder, *, on: date | None) -> list[int]:
    """The cells whose report standing the person follows (below a leader's or a grassroots
    committee secretary's organization), active on ``on``."""
    return [c.id for c in _cells(who.orgs, subtree(who.orgs, who.roots(STANDING_ROLES)), on)]


def standing_orgs(who: Holder, *, on: date | None, committees: bool) -> list[int]:
    """The cells whose report standing the person follows and, with ``committees``, the
    grassroots party committees among them (they submit their own remedy reports)."""
    cells = standing_cells(who, on=on)
    if not committees:
        return cells
    below = subtree(who.orgs, who.roots(STANDING_ROLES))
    return cells + [
        n.id
        for n in sorted((who.orgs[i] for i in below), key=lambda n: n.code)
        if n.kind is OrgKind.COMMITTEE and n.active_on(on)
    ]


def watch_cells(who: Holder, *, on: date | None) -> list[int]:
    """The cells whose members under watch the person reads; :class:`NotAllowed` unless the
    person sits on the Inspection Committee."""
    if not who.roots(WATCH_ROLES):
        raise NotAllowed()
    return standing_cells(who, on=on)


# --- The summary's scope -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a person may see: the organizations their roles point at and everything below."""

    roots: frozenset[int]
    reachable: frozenset[int]  # the roots and every organization below them
    cell_ids: tuple[int, ...]  # the cells in scope that are active on the reference day
    sees_all: bool  # a leader on the top organization

    def allows(self, org_id: int) -> bool:
        """Tell whether ``org_id`` is at or below one of the scope's roots."""
        return org_id in self.reachable


def scope_over(orgs: Mapping[int, OrgNode], roots: Iterable[int], *, on: date) -> Scope:
    """The scope of everything at or below ``roots`` on day ``on``."""
    root_set = frozenset(r for r in roots if r in orgs)
    reachable = frozenset(subtree(orgs, root_set))
    return Scope(
        roots=root_set,
        reachable=reachable,
        cell_ids=tuple(c.id for c in _cells(orgs, reachable, on)),
        sees_all=any(orgs[r].kind is OrgKind.TOP for r in root_set),
    )


def summary_scope(who: Holder, *, on: date) -> Scope:
    """The scope of a person's active roles; :class:`NotAllowed` when they hold none.

    Every role is scoped to an organization; the person sees that organization and everything
    below it. A leader on the top organization therefore sees everything, a grassroots party
    committee's secretary its cells, a cell secretary / deputy / committee member / follower
    their cell. Several roles add up.
    """
    if not who.grants:
        raise NotAllowed()
    return scope_over(who.orgs, who.roots(), on=on)


# --- Who is reminded, who gets the digest and notices ----------------------------------------


def reminded(
    remind: Collection[Role],
    here: Sequence[tuple[int, Role]],
    *,
    parent_kind: OrgKind | None,
    above: Sequence[tuple[int, Role]],
) -> tuple[list[int], bool]:
    """Who is reminded of an organization's obligation, and whether it is the fallback.

    ``here``/``above``: (person, role) held in the owing organization and in its parent. The
    holders of the obligation's ``remind`` roles; when there is none, the secretary of the
    grassroots party committee above (fallback). A cell with nobody to remind directly under
    the top organization gets no reminder: leaders see it in the digest.
    """
    people = list(dict.fromkeys(p for p, role in here if role in remind))
    if people:
        return people, False
    if parent_kind is OrgKind.COMMITTEE:
        committee = (p for p, role in above if role is Role.GRASSROOTS_SECRETARY)
        return list(dict.fromkeys(committee)), True
    return [], False


def deadline_orgs(who: Holder, parent_of: Mapping[int, int | None]) -> set[int]:
    """The organizations whose obligations may fall to the person: where they hold a role, and
    the cells right below a committee they lead (a cell without a secretary falls back to it)."""
    mine = set(who.roots())
    return mine | {oid for oid, parent in parent_of.items() if parent in mine}


def gets_digest(role: Role, org_kind: OrgKind, digest_roles: Collection[Role]) -> bool:
    """Tell whether a role assignment brings the leaders' digest: one of the configured roles,
    held on the top organization."""
    return org_kind is OrgKind.TOP and role in digest_roles


#: Who on the top organization is told of a member flagged under the three-months rule.
THREE_MONTHS_BOARD = frozenset({Role.ORGANIZATION})
#: Who a notice or briefing to a scope goes to.
NOTICE_ROLES = frozenset({Role.SECRETARY, Role.GRASSROOTS_SECRETARY})


def gets_notice(role: Role) -> bool:
    """Tell whether a role assignment in a notice's scope brings the notice."""
    return role in NOTICE_ROLES


def told_of_unreachable(assignments: Sequence[tuple[int, Role, OrgKind]]) -> list[int]:
    """Who is told that a person cannot be reached: the admins, else the Organization Board
    on the top organization. ``assignments``: (person, role, kind of the organization)."""
    admins = [p for p, role, _kind in assignments if role is Role.ADMIN]
    if admins:
        return list(dict.fromkeys(admins))
    board = [
        p for p, role, kind in assignments if role is Role.ORGANIZATION and kind is OrgKind.TOP
    ]
    return list(dict.fromkeys(board))


# --- The enterprises' register -------------------------------------------------------------------


def office_top(who: Holder) -> int | None:
    """The top organization whose office the person works in (a leader's role there), whose
    register of enterprises they keep; None when they hold no such role."""
    tops = sorted(
        oid for oid in who.roots(LEADERS) if oid in who.orgs and who.orgs[oid].kind is OrgKind.TOP
    )
    return tops[0] if tops else None


def founding_cells(who: Holder) -> list[OrgNode]:
    """The cells an enterprise's founded party organization may be: those below the top
    organization whose register the person keeps; :class:`NotAllowed` without such a role."""
    top = office_top(who)
    if top is None:
        raise NotAllowed()
    return _cells(who.orgs, subtree(who.orgs, [top]), None)
