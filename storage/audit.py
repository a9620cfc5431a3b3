"""The audit trail: every write records who, when, what, before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from storage.models import AuditLog


@dataclass(frozen=True)
class Actor:
    """Who is acting: a person of the bot, or a named operator (CLI, scheduler)."""

    label: str
    person_id: int | None = None

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """An actor for writes the bot makes on its own."""
        return cls(label=name)


def jsonable(value: Any) -> Any:
    """Turn model values into JSON-friendly ones for the audit's before/after."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def snapshot(obj: Any, fields: list[str] | None = None) -> dict[str, Any]:
    """Return the column values of a model instance as a JSON-friendly dict."""
    cols = fields or [c.key for c in obj.__table__.columns]
    return {name: jsonable(getattr(obj, name)) for name in cols}


def record(
    session: Session,
    *,
    actor: Actor,
    at: datetime,
    action: str,
    entity: str,
    entity_id: object = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an audit row to the current transaction."""
    session.add(
        AuditLog(
            at=at,
            actor_person_id=actor.person_id,
            actor=actor.label[:120],
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            before=jsonable(before) if before is not None else None,
            after=jsonable(after) if after is not None else None,
        )
    )
