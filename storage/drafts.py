"""Conversation progress in the database: one draft per person, saved at every step.

A step use case loads the draft with :func:`current` (which refuses a stale button: another
conversation, another step, a key that is not this conversation's), changes it with
:func:`advance` and saves it in the same transaction as any record it writes, so a restart
(even SIGKILL) loses nothing the user already answered. Starting another conversation never
replaces this one silently: the request waits in the draft (:func:`hold`) until the person
chooses to continue or discard (see :mod:`handlers.flows`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, delete, event, select, update
from sqlalchemy.orm import ORMExecuteState, Session, object_session
from sqlalchemy.orm.attributes import set_committed_value

from domain.errors import StaleAction
from storage.models import Draft

#: Where a conversation started while this one was open waits for "continue / discard".
PENDING = "next"


def key(draft: Draft) -> int:
    """The number the conversation's buttons carry.

    A random number drawn when the conversation starts, not the draft's row id: SQLite hands
    a deleted row's id to the next insert, so a button of a cancelled conversation would
    otherwise look current in the next one.
    """
    return int(draft.data.get("cid") or draft.id)


def new_key() -> int:
    """A fresh conversation key (below 2**31, like every id a button carries)."""
    return secrets.randbelow(2_000_000_000) + 1


def current(
    session: Session,
    person_id: int,
    *,
    flow: str,
    conversation: int | None = None,
    states: Iterable[str] = (),
) -> Draft:
    """The person's draft of ``flow``, if a button (carrying ``conversation``) pressed at one
    of ``states`` is still current. Raises :class:`StaleAction` otherwise."""
    draft = get(session, person_id)
    allowed = set(states)
    if (
        draft is None
        or draft.flow != flow
        or (conversation is not None and key(draft) != conversation)
        or (allowed and draft.state not in allowed)
    ):
        raise StaleAction()
    return draft


def get(session: Session, person_id: int) -> Draft | None:
    """Return the person's conversation in progress, if any.

    Read once per transaction: typed text finds the draft to choose its step, then the step's
    use case asks for it again. Starting or ending a conversation, or any other write but a
    step's own (:func:`advance`, which updates the object it was given), forgets the read."""
    read = session.info.setdefault(_READ, {})
    if person_id not in read:
        read[person_id] = session.scalar(_OF_PERSON, {"person": person_id})
    return cast(Draft | None, read[person_id])


#: ``session.info`` key of the drafts read in the transaction, by person.
_READ = "chibo_drafts"


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_READ, None)


event.listen(Session, "after_commit", _forget)
event.listen(Session, "after_rollback", _forget)
event.listen(Session, "after_soft_rollback", _forget)


@event.listens_for(Session, "do_orm_execute")
def _forget_on_writes(state: ORMExecuteState) -> None:
    if _READ in state.session.info and not state.is_select:
        _forget(state.session)


@event.listens_for(Session, "after_flush")
def _forget_on_flushed_drafts(session: Session, _context: Any) -> None:
    if _READ in session.info and any(
        isinstance(obj, Draft) for obj in (*session.new, *session.deleted)
    ):
        _forget(session)


#: A person's draft, built once (read on every step).
_OF_PERSON = select(Draft).where(Draft.person_id == bindparam("person"))


def start(
    session: Session,
    *,
    person_id: int,
    flow: str,
    state: str,
    data: dict[str, Any],
    now: datetime,
) -> Draft:
    """Start a conversation, replacing any other the person had (the caller has asked them:
    see :func:`hold`)."""
    session.execute(delete(Draft).where(Draft.person_id == person_id))
    draft = Draft(
        person_id=person_id,
        flow=flow,
        state=state,
        data={"cid": new_key(), **data},
        step=1,
        created_at=now,
        updated_at=now,
    )
    session.add(draft)
    session.flush()
    return draft


def advance(draft: Draft, *, state: str | None = None, now: datetime, **changes: Any) -> Draft:
    """Move a draft to ``state`` and merge ``changes`` into its data (a new step number).

    A draft read from the database is written at once with one plain ``UPDATE`` (every step
    saves one, so it skips the unit of work's flush); a new one is saved with the session.
    """
    data = dict(draft.data)
    data.update(changes)
    values = {
        "data": data,
        "state": draft.state if state is None else state,
        "step": draft.step + 1,
        "updated_at": now,
    }
    session = object_session(draft)
    if session is None or draft.id is None:
        for name, value in values.items():
            setattr(draft, name, value)
        return draft
    session.connection().execute(_ADVANCE, {"draft": draft.id, **values})
    for name, value in values.items():
        set_committed_value(draft, name, value)
    return draft


#: Save a draft's step, built once.
_ADVANCE = (
    update(Draft.__table__)  # type: ignore[arg-type]
    .where(Draft.__table__.c.id == bindparam("draft"))
    .values(
        data=bindparam("data"),
        state=bindparam("state"),
        step=bindparam("step"),
        updated_at=bindparam("updated_at"),
    )
)


def finish(session: Session, person_id: int) -> bool:
    """End the person's conversation. Returns whether there was one."""
    deleted = session.execute(delete(Draft).where(Draft.person_id == person_id))
    return bool(cast(CursorResult[Any], deleted).rowcount)


def hold(draft: Draft, *, flow: str, args: dict[str, Any], now: datetime) -> Draft:
    """Keep the request to start ``flow`` (with ``args``) in the open ``draft`` until the
    person chooses: continue this one, or discard it and start that one."""
    data = dict(draft.data)
    data[PENDING] = {"flow": flow, "args": args}
    draft.data = data
    draft.updated_at = now
    return draft


def held(draft: Draft) -> tuple[str, dict[str, Any]] | None:
    """The conversation waiting to start instead of ``draft`` (flow, args), if any."""
    pending = draft.data.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("flow"), str):
        return None
    return pending["flow"], dict(pending.get("args") or {})
