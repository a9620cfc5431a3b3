"""Who is reminded of an instance, who gets the leaders' digest, and what sending needs to
know of a person."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import access
from domain.calendar import Catalog
from storage.models import Organization, OrgKind, Person, Role, RoleAssignment
from storage.obligations.instances import Instance
from storage.obligations.organizations import OrgRow


@dataclass(frozen=True)
class Recipient:
    """Who gets an instance's reminder; ``fallback`` when it is the committee above."""

    person_id: int
    fallback: bool = False


def role_holders(session: Session, org_ids: Iterable[int]) -> dict[int, list[tuple[int, Role]]]:
    """Org id → (person id, role) of the active role assignments there."""
    ids = sorted(set(org_ids))
    out: dict[int, list[tuple[int, Role]]] = defaultdict(list)
    if not ids:
        return out
    for person_id, org_id, role in session.execute(
        select(RoleAssignment.person_id, RoleAssignment.org_id, RoleAssignment.role)
        .where(RoleAssignment.org_id.in_(ids), RoleAssignment.revoked_at.is_(None))
        .order_by(RoleAssignment.id)
    ):
        out[org_id].append((person_id, role))
    return out


def recipients(
    session: Session,
    catalog: Catalog,
    items: Sequence[Instance],
    orgs: dict[int, OrgRow],
) -> dict[str, list[Recipient]]:
    """Instance key → who is reminded.

    Who is decided by :func:`domain.access.reminded`: the holders of the obligation's roles in
    the owing organization, else the grassroots committee's secretary above (``fallback``).
    """
    wanted = {i.org_id for i in items}
    wanted |= {p for i in wanted if (p := orgs[i].parent_id) is not None}
    holders = role_holders(session, wanted)
    out: dict[str, list[Recipient]] = {}
    for inst in items:
        spec = catalog.get(inst.obligation)
        if spec is None:
            continue
        parent = orgs[inst.org_id].parent_id
        people, fallback = access.reminded(
            spec.remind,
            holders.get(inst.org_id, []),
            parent_kind=orgs[parent].kind if parent is not None else None,
            above=holders.get(parent, []) if parent is not None else [],
        )
        out[inst.key] = [Recipient(p, fallback=fallback) for p in people]
    return out


def role_org_ids(session: Session, person_id: int) -> set[int]:
    """The organizations where the person holds an active role."""
    return set(
        session.scalars(
            select(RoleAssignment.org_id).where(
                RoleAssignment.person_id == person_id, RoleAssignment.revoked_at.is_(None)
            )
        )
    )


@dataclass(frozen=True)
class PersonInfo:
    """What sending needs to know of a person."""

    id: int
    display_name: str
    telegram_user_id: int | None
    locale: str | None
    reminder_hour: int | None
    mute_nonessential: bool
    blocked_at: datetime | None

    @property
    def reachable(self) -> bool:
        """Linked to Telegram and not known to block the bot."""
        return self.telegram_user_id is not None and self.blocked_at is None


def people_info(session: Session, ids: Iterable[int]) -> dict[int, PersonInfo]:
    """Person id → :class:`PersonInfo`."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(
            Person.id,
            Person.display_name,
            Person.telegram_user_id,
            Person.locale,
            Person.reminder_hour,
            Person.mute_nonessential,
            Person.blocked_at,
        ).where(Person.id.in_(wanted))
    ).all()
    return {r[0]: PersonInfo(*r) for r in rows}


def _assignments(session: Session, roles: Iterable[Role]) -> list[tuple[int, Role, OrgKind]]:
    """(person, role, kind of the organization) of the active assignments of ``roles``."""
    return [
        (p, r, k)
        for p, r, k in session.execute(
            select(RoleAssignment.person_id, RoleAssignment.role, Organization.kind)
            .join(Organization, Organization.id == RoleAssignment.org_id)
            .where(RoleAssignment.role.in_(list(roles)), RoleAssignment.revoked_at.is_(None))
            .order_by(RoleAssignment.person_id)
        )
    ]


def leaders(session: Session, roles: Iterable[str]) -> list[int]:
    """Who receives the leaders' digest (:func:`domain.access.gets_digest`)."""
    wanted = frozenset(Role(r) for r in roles)
    return list(
        dict.fromkeys(
            p
            for p, role, kind in _assignments(session, wanted)
            if access.gets_digest(role, kind, wanted)
        )
    )


def admins(session: Session) -> list[int]:
    """Who is told about unreachable people (:func:`domain.access.told_of_unreachable`)."""
    return access.told_of_unreachable(_assignments(session, [Role.ADMIN, Role.ORGANIZATION]))
