"""Conversation progress in the database: one draft per person, saved at every step.

A handler step loads the draft, changes it and saves it in the same transaction as any
record it writes, so a restart (even SIGKILL) loses nothing the user already answered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from storage.models import Draft


def get(session: Session, person_id: int) -> Draft | None:
    """Return the person's conversation in progress, if any."""
    return session.scalar(select(Draft).where(Draft.person_id == person_id))


def start(
    session: Session,
    *,
    person_id: int,
    flow: str,
    state: str,
    data: dict[str, Any],
    now: datetime,
) -> Draft:
    """Start a conversation, replacing any other the person had."""
    session.execute(delete(Draft).where(Draft.person_id == person_id))
    draft = Draft(
        person_id=person_id,
        flow=flow,
        state=state,
        data=data,
        step=1,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    return draft


def advance(draft: Draft, *, state: str | None = None, now: datetime, **changes: Any) -> Draft:
    """Move a draft to ``state`` and merge ``changes`` into its data (a new step number)."""
    data = dict(draft.data)
    data.update(changes)
    draft.data = data  # reassign so the JSON column is seen as changed
    if state is not None:
        draft.state = state
    draft.step += 1
    draft.updated_at = now
    return draft


def finish(session: Session, person_id: int) -> bool:
    """End the person's conversation. Returns whether there was one."""
    deleted = session.execute(delete(Draft).where(Draft.person_id == person_id))
    return bool(cast(CursorResult[Any], deleted).rowcount)
