"""Notices and briefing invitations to the secretaries in scope, and their answers."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain import access
from storage.audit import Actor, record
from storage.models import Notice, NoticeReply, OrgKind, Outbox, Person
from storage.obligations.organizations import org_rows
from storage.obligations.recipients import role_holders

NOTICE_KINDS = ("notice", "briefing")
NOTICE_ANSWERS = ("seen", "attend", "decline")


def parse_scope(text: str) -> dict[str, str]:
    """``all``, ``type:<org type code>`` or ``committee:<organization code>`` → scope dict."""
    text = text.strip()
    if text == "all":
        return {"kind": "all"}
    kind, _, code = text.partition(":")
    if kind in ("type", "committee") and code.strip():
        return {"kind": kind, "code": code.strip()}
    raise ValueError(f"scope must be all, type:<code> or committee:<code>, not {text!r}")


def scope_recipients(session: Session, scope: dict[str, Any], *, on: date) -> list[int]:
    """The secretaries a notice to ``scope`` goes to: cell secretaries and grassroots secretaries.

    ``all``: every active cell and grassroots committee; ``type``: those of one organization
    type; ``committee``: one grassroots party committee and the cells below it.
    """
    orgs = org_rows(session)
    active = {o.id: o for o in orgs.values() if o.active_during(on, on)}
    kind = scope.get("kind")
    if kind == "all":
        wanted = {o.id for o in active.values() if o.kind is not OrgKind.TOP}
    elif kind == "type":
        wanted = {o.id for o in active.values() if o.org_type == scope.get("code")}
    elif kind == "committee":
        root = next((o for o in active.values() if o.code == str(scope.get("code")).upper()), None)
        if root is None:
            raise LookupError(scope.get("code"))
        wanted = {root.id} | {o.id for o in active.values() if o.parent_id == root.id}
    else:
        raise ValueError(f"unknown scope {scope!r}")
    holders = role_holders(session, wanted)
    return sorted(
        {pid for items in holders.values() for pid, role in items if access.gets_notice(role)}
    )


def create_notice(
    session: Session,
    *,
    kind: str,
    title: str,
    body: str | None,
    scope: dict[str, Any],
    event_at: datetime | None,
    place: str | None,
    actor: Actor,
    now: datetime,
) -> tuple[Notice, list[int]]:
    """Create a notice (or briefing invitation) and queue it to every secretary in scope."""
    if kind not in NOTICE_KINDS:
        raise ValueError(kind)
    recipients = scope_recipients(session, scope, on=now.date())
    notice = Notice(
        kind=kind,
        title=title[:300],
        body=body,
        scope=scope,
        event_at=event_at,
        place=place[:300] if place else None,
        created_by=actor.person_id,
        created_at=now,
    )
    session.add(notice)
    session.flush()
    record(
        session,
        actor=actor,
        at=now,
        action="create",
        entity="notice",
        entity_id=notice.id,
        after={"kind": kind, "scope": scope, "recipients": len(recipients)},
    )
    return notice, recipients


def reply_to_notice(
    session: Session, *, notice_id: int, person_id: int, answer: str, now: datetime
) -> bool:
    """Record a recipient's answer (idempotent); returns False if the answer was already it."""
    if answer not in NOTICE_ANSWERS:
        raise ValueError(answer)
    row = session.scalar(
        select(NoticeReply).where(
            NoticeReply.notice_id == notice_id, NoticeReply.person_id == person_id
        )
    )
    if row is not None and row.answer == answer:
        return False
    if row is None:
        session.add(
            NoticeReply(notice_id=notice_id, person_id=person_id, answer=answer, answered_at=now)
        )
    else:
        row.answer, row.answered_at = answer, now
    return True


@dataclass(frozen=True)
class NoticeStatus:
    """Who was sent a notice and how they answered."""

    notice: Notice
    answers: dict[str, list[str]]  # answer → names
    waiting: list[str]  # names of those who have not answered


def notice_status(session: Session, notice_id: int) -> NoticeStatus | None:
    """The answers to a notice, and who has not confirmed yet."""
    notice = session.get(Notice, notice_id)
    if notice is None:
        return None
    sent_to = dict(
        session.execute(
            select(Person.id, Person.display_name)
            .join(Outbox, Outbox.person_id == Person.id)
            .where(Outbox.key.like(f"notice:{notice_id}:%"))
        )
        .tuples()
        .all()
    )
    answers: dict[str, list[str]] = defaultdict(list)
    answered: set[int] = set()
    for pid, answer in session.execute(
        select(NoticeReply.person_id, NoticeReply.answer).where(NoticeReply.notice_id == notice_id)
    ):
        answered.add(pid)
        answers[answer].append(sent_to.get(pid, "?"))
    waiting = sorted(name for pid, name in sent_to.items() if pid not in answered)
    return NoticeStatus(notice, {k: sorted(v) for k, v in answers.items()}, waiting)


def was_sent_notice(session: Session, *, notice_id: int, person_id: int) -> bool:
    """Whether the notice was addressed to this person (buttons are re-checked against it)."""
    return (
        session.scalar(select(Outbox.id).where(Outbox.key == f"notice:{notice_id}:{person_id}"))
        is not None
    )
