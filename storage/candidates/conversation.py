"""Candidates: the /candidates conversation's draft (one per person, flow ``candidate``)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from domain.errors import StaleAction
from storage import drafts
from storage.candidates.base import FLOW, State
from storage.meetings import require_writer
from storage.models import Draft


def conversation_key(draft: Draft) -> int:
    """The number the conversation's buttons carry (drawn at the start, never reused)."""
    return int(draft.data.get("cid") or draft.id)


def current(session: Session, *, person_id: int) -> Draft | None:
    """The person's conversation in progress (any flow)."""
    return drafts.get(session, person_id)


def _guard(session: Session, person_id: int, draft_id: int, *states: State) -> Draft:
    draft = drafts.get(session, person_id)
    if (
        draft is None
        or draft.flow != FLOW
        or conversation_key(draft) != draft_id
        or (states and draft.state not in states)
    ):
        raise StaleAction()
    org_id = draft.data.get("org_id")
    if org_id:
        require_writer(session, person_id, int(org_id))
    return draft


def _set(draft: Draft, state: State | None, now: datetime, **changes: Any) -> Draft:
    return drafts.advance(draft, state=state.value if state else None, now=now, **changes)


def _start(
    session: Session, person_id: int, state: State, data: dict[str, Any], now: datetime
) -> Draft:
    data = {"cid": secrets.randbelow(2_000_000_000) + 1, **data}
    return drafts.start(session, person_id=person_id, flow=FLOW, state=state, data=data, now=now)


def cancel(session: Session, *, person_id: int, draft_id: int) -> bool:
    """Leave the conversation; nothing of it is saved."""
    draft = drafts.get(session, person_id)
    if draft is None or draft.flow != FLOW or conversation_key(draft) != draft_id:
        return False
    return drafts.finish(session, person_id)
