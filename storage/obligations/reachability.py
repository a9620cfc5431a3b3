"""People holding a role whom the bot cannot reach."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from storage.models import Organization, Outbox, OutboxStatus, Person, Role, RoleAssignment


@dataclass(frozen=True)
class Unreachable:
    """A person with a role whom the bot cannot reach."""

    person_id: int
    name: str
    reason: str  # "not_linked" | "never_started" | "blocked"
    since: datetime | None
    roles: tuple[tuple[Role, str], ...]  # (role, organization code)
    undelivered: int


def unreachable(session: Session) -> list[Unreachable]:
    """People holding a role who are not linked, never wrote to the bot, or blocked it."""
    rows = session.execute(
        select(Person, RoleAssignment.role, Organization.code)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .join(Organization, Organization.id == RoleAssignment.org_id)
        .where(
            RoleAssignment.revoked_at.is_(None),
            or_(
                Person.telegram_user_id.is_(None),
                Person.started_at.is_(None),
                Person.blocked_at.is_not(None),
            ),
        )
        .order_by(Person.display_name, Organization.code)
    ).all()
    people: dict[int, tuple[Person, list[tuple[Role, str]]]] = {}
    for person, role, code in rows:
        people.setdefault(person.id, (person, []))[1].append((role, code))
    counts = (
        dict(
            session.execute(
                select(Outbox.person_id, func.count(Outbox.id))
                .where(
                    Outbox.person_id.in_(list(people)),
                    Outbox.status.in_([OutboxStatus.BLOCKED, OutboxStatus.FAILED]),
                )
                .group_by(Outbox.person_id)
            )
            .tuples()
            .all()
        )
        if people
        else {}
    )
    out = []
    for pid, (person, roles) in people.items():
        if person.blocked_at is not None:
            reason, since = "blocked", person.blocked_at
        elif person.telegram_user_id is None:
            reason, since = "not_linked", None
        else:
            reason, since = "never_started", None
        out.append(
            Unreachable(
                pid, person.display_name, reason, since, tuple(roles), int(counts.get(pid, 0))
            )
        )
    return out
