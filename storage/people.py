"""People, roles and invites: onboarding use cases."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from domain.access import Grant
from domain.errors import InviteAlreadyYours, InviteInvalid, NotFound
from domain.text import clean
from storage import access as access_facts
from storage.audit import Actor, record, snapshot
from storage.cache import cached
from storage.db import plain_rows
from storage.models import Invite, Organization, Person, Role, RoleAssignment

INVITE_RE = re.compile(r"^[A-Za-z0-9_-]{12,32}$")


@dataclass(frozen=True)
class RoleView:
    """A role held in an organization (detached from the session)."""

    role: Role
    org_id: int
    org_code: str
    org_name: str


@dataclass(frozen=True)
class Identity:
    """The person behind a Telegram account, with their active roles."""

    person_id: int
    display_name: str
    locale: str | None
    roles: tuple[RoleView, ...]

    @property
    def role_set(self) -> set[Role]:
        """The kinds of role held, anywhere."""
        return {r.role for r in self.roles}

    def orgs_with(self, *roles: Role) -> list[RoleView]:
        """The role assignments of the given kinds."""
        return [r for r in self.roles if r.role in roles]

    def actor(self) -> Actor:
        """This person as the author of a write."""
        return Actor(label=self.display_name, person_id=self.person_id)


#: The person behind a Telegram account and their active roles, in one statement (built once).
_IDENTITY = (
    select(
        Person.id,
        Person.display_name,
        Person.locale,
        RoleAssignment.role,
        Organization.id,
        Organization.code,
        Organization.name,
    )
    .outerjoin(
        RoleAssignment,
        (RoleAssignment.person_id == Person.id) & RoleAssignment.revoked_at.is_(None),
    )
    .outerjoin(Organization, Organization.id == RoleAssignment.org_id)
    .where(Person.telegram_user_id == bindparam("uid"))
    .order_by(RoleAssignment.id)
)


def identity(session: Session, telegram_user_id: int) -> Identity | None:
    """Load the person bound to a Telegram account and their active roles.

    Runs on every update, so it comes from the process's cache while no person, role or
    organization has changed (:mod:`storage.cache`); otherwise it reads plain rows (no ORM
    objects), the person and the roles in one statement.
    """
    uid = telegram_user_id
    found = cached(session, ("identity", uid), lambda: _identity(session, uid))
    if found is not None:
        access_facts.remember_grants(
            session, found.person_id, tuple(Grant(r.role, r.org_id) for r in found.roles)
        )
    return found


def _identity(session: Session, telegram_user_id: int) -> Identity | None:
    rows = plain_rows(session, _IDENTITY, {"uid": telegram_user_id}).all()
    if not rows:
        return None
    person_id, display_name, locale = rows[0][:3]
    roles = tuple(
        RoleView(role, oid, code, name) for *_p, role, oid, code, name in rows if role is not None
    )
    return Identity(person_id=person_id, display_name=display_name, locale=locale, roles=roles)


def identity_of(session: Session, person: Person) -> Identity:
    """Build the :class:`Identity` of a person row."""
    return Identity(
        person_id=person.id,
        display_name=person.display_name,
        locale=person.locale,
        roles=_roles(session, person.id),
    )


def _roles(session: Session, person_id: int) -> tuple[RoleView, ...]:
    rows = session.execute(
        select(RoleAssignment.role, Organization.id, Organization.code, Organization.name)
        .join(Organization, Organization.id == RoleAssignment.org_id)
        .where(RoleAssignment.person_id == person_id, RoleAssignment.revoked_at.is_(None))
        .order_by(RoleAssignment.id)
    ).all()
    access_facts.remember_grants(session, person_id, tuple(Grant(r[0], r[1]) for r in rows))
    return tuple(RoleView(role, oid, code, name) for role, oid, code, name in rows)


def create_invite(
    session: Session,
    *,
    org: Organization,
    role: Role,
    actor: Actor,
    now: datetime,
    days: int = 7,
    display_name: str | None = None,
) -> Invite:
    """Create a one-time invite code for ``role`` in ``org`` that expires after ``days``."""
    invite = Invite(
        code=secrets.token_urlsafe(12),
        org_id=org.id,
        role=role,
        display_name=clean(display_name)[:120] if display_name else None,
        created_at=now,
        created_by=actor.label,
        expires_at=now + timedelta(days=days),
    )
    session.add(invite)
    session.flush()
    record(
        session,
        actor=actor,
        at=now,
        action="create",
        entity="invite",
        entity_id=invite.id,
        after=snapshot(invite, ["org_id", "role", "expires_at"]),
    )
    return invite


def redeem_invite(
    session: Session,
    *,
    code: str,
    telegram_user_id: int,
    telegram_name: str,
    locale: str | None,
    now: datetime,
) -> tuple[Identity, RoleView]:
    """Bind a Telegram account to the invite's role. Raises :class:`InviteInvalid`."""
    code = code.strip()
    if not INVITE_RE.match(code):
        raise InviteInvalid()
    invite = session.scalar(select(Invite).where(Invite.code == code).with_for_update())
    if invite is not None and invite.used_at is not None and invite.used_by is not None:
        user = session.get(Person, invite.used_by)
        if user is not None and user.telegram_user_id == telegram_user_id:
            raise InviteAlreadyYours()
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        raise InviteInvalid()
    person = session.scalar(select(Person).where(Person.telegram_user_id == telegram_user_id))
    if person is None:
        person = Person(
            display_name=clean(invite.display_name or telegram_name or "?")[:120] or "?",
            telegram_user_id=telegram_user_id,
            locale=None,
            created_at=now,
            started_at=now,
        )
        session.add(person)
        session.flush()
        record(
            session,
            actor=Actor(person.display_name, person.id),
            at=now,
            action="create",
            entity="person",
            entity_id=person.id,
            after=snapshot(person, ["display_name"]),
        )
    actor = Actor(person.display_name, person.id)
    existing = session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.person_id == person.id,
            RoleAssignment.org_id == invite.org_id,
            RoleAssignment.role == invite.role,
            RoleAssignment.revoked_at.is_(None),
        )
    )
    if existing is None:
        assignment = RoleAssignment(
            person_id=person.id,
            org_id=invite.org_id,
            role=invite.role,
            granted_at=now,
            granted_by=f"invite:{invite.id}",
        )
        session.add(assignment)
        session.flush()
        record(
            session,
            actor=actor,
            at=now,
            action="grant",
            entity="role",
            entity_id=assignment.id,
            after={"org_id": invite.org_id, "role": invite.role.value},
        )
    invite.used_at = now
    invite.used_by = person.id
    record(session, actor=actor, at=now, action="redeem", entity="invite", entity_id=invite.id)
    org = session.get(Organization, invite.org_id)
    assert org is not None
    return identity_of(session, person), RoleView(invite.role, org.id, org.code, org.name)


def touch_started(session: Session, person_id: int, now: datetime) -> None:
    """Note that the person can be reached (they wrote to the bot)."""
    person = session.get(Person, person_id)
    if person is not None:
        if person.started_at is None:
            person.started_at = now
        person.blocked_at = None


def set_locale(session: Session, *, person_id: int, locale: str, now: datetime) -> None:
    """Store a person's language choice."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound()
    before = person.locale
    person.locale = locale
    record(
        session,
        actor=Actor(person.display_name, person.id),
        at=now,
        action="update",
        entity="person",
        entity_id=person.id,
        before={"locale": before},
        after={"locale": locale},
    )


@dataclass(frozen=True)
class RoleRow:
    """A line of ``chibo admin users``."""

    assignment_id: int
    person: str
    telegram_linked: bool
    role: Role
    org_code: str
    org_name: str
    granted_at: datetime


def list_roles(session: Session) -> list[RoleRow]:
    """Every active role assignment, by organization code."""
    rows = session.execute(
        select(RoleAssignment, Person, Organization)
        .join(Person, Person.id == RoleAssignment.person_id)
        .join(Organization, Organization.id == RoleAssignment.org_id)
        .where(RoleAssignment.revoked_at.is_(None))
        .order_by(Organization.code, RoleAssignment.role, Person.display_name)
    ).all()
    return [
        RoleRow(
            a.id,
            p.display_name,
            p.telegram_user_id is not None,
            a.role,
            o.code,
            o.name,
            a.granted_at,
        )
        for a, p, o in rows
    ]


def revoke_role(session: Session, *, assignment_id: int, actor: Actor, now: datetime) -> RoleRow:
    """Revoke one role assignment (kept for the audit)."""
    assignment = session.get(RoleAssignment, assignment_id)
    if assignment is None or assignment.revoked_at is not None:
        raise NotFound()
    assignment.revoked_at = now
    assignment.revoked_by = actor.label
    record(
        session,
        actor=actor,
        at=now,
        action="revoke",
        entity="role",
        entity_id=assignment.id,
        before={"org_id": assignment.org_id, "role": assignment.role.value},
    )
    person = session.get(Person, assignment.person_id)
    org = session.get(Organization, assignment.org_id)
    assert person is not None and org is not None
    return RoleRow(
        assignment.id,
        person.display_name,
        person.telegram_user_id is not None,
        assignment.role,
        org.code,
        org.name,
        assignment.granted_at,
    )


@dataclass(frozen=True)
class InviteRow:
    """A line of ``chibo admin invites``: an invite not used yet and not expired."""

    invite_id: int
    role: Role
    org_code: str
    org_name: str
    display_name: str | None
    created_at: datetime
    expires_at: datetime


def list_pending_invites(session: Session, *, now: datetime) -> list[InviteRow]:
    """Invites that can still be redeemed, oldest first."""
    rows = session.execute(
        select(Invite, Organization)
        .join(Organization, Organization.id == Invite.org_id)
        .where(Invite.used_at.is_(None), Invite.expires_at > now)
        .order_by(Invite.created_at, Invite.id)
    ).all()
    return [
        InviteRow(i.id, i.role, o.code, o.name, i.display_name, i.created_at, i.expires_at)
        for i, o in rows
    ]


def revoke_invite(session: Session, *, invite_id: int, actor: Actor, now: datetime) -> InviteRow:
    """Make a pending invite unusable at once (it expires now; the row stays for the audit)."""
    invite = session.get(Invite, invite_id)
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        raise NotFound()
    before = {"expires_at": invite.expires_at.isoformat()}
    invite.expires_at = now
    record(
        session,
        actor=actor,
        at=now,
        action="revoke",
        entity="invite",
        entity_id=invite.id,
        before=before,
        after={"expires_at": now.isoformat()},
    )
    org = session.get(Organization, invite.org_id)
    assert org is not None
    return InviteRow(
        invite.id, invite.role, org.code, org.name, invite.display_name, invite.created_at, now
    )
