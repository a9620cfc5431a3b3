"""Snoozed reminders, a person's reminder preferences, and what was sent in one message."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit import Actor, record
from storage.models import Outbox, Person, Snooze


def snoozes(
    session: Session, person_ids: Iterable[int], now: datetime
) -> dict[tuple[int, str], datetime]:
    """(person id, instance key) → snoozed until, for snoozes not older than a week."""
    ids = sorted(set(person_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(Snooze.person_id, Snooze.instance_key, Snooze.until).where(
            Snooze.person_id.in_(ids), Snooze.until >= now - timedelta(days=7)
        )
    ).all()
    return {(p, k): u for p, k, u in rows}


def snooze(
    session: Session,
    *,
    person_id: int,
    instance_keys: Iterable[str],
    until: datetime,
    now: datetime,
) -> int:
    """Remind the person of these instances at ``until`` (idempotent); returns how many."""
    keys = sorted(set(instance_keys))
    existing = {
        s.instance_key: s
        for s in session.scalars(
            select(Snooze).where(Snooze.person_id == person_id, Snooze.instance_key.in_(keys))
        )
    }
    for key in keys:
        row = existing.get(key)
        if row is None:
            session.add(Snooze(person_id=person_id, instance_key=key[:120], until=until))
        else:
            row.until = until
    person = session.get(Person, person_id)
    record(
        session,
        actor=Actor(person.display_name if person else "?", person_id),
        at=now,
        action="snooze",
        entity="reminder",
        entity_id=person_id,
        after={"instances": keys, "until": until},
    )
    return len(keys)


def set_preferences(
    session: Session,
    *,
    person_id: int,
    now: datetime,
    hour: int | None = None,
    mute_nonessential: bool | None = None,
) -> Person:
    """Change a person's reminder hour and/or muting (audited)."""
    person = session.get(Person, person_id)
    if person is None:
        raise LookupError(person_id)
    before = {"reminder_hour": person.reminder_hour, "mute_nonessential": person.mute_nonessential}
    if hour is not None:
        person.reminder_hour = hour
    if mute_nonessential is not None:
        person.mute_nonessential = mute_nonessential
    after = {"reminder_hour": person.reminder_hour, "mute_nonessential": person.mute_nonessential}
    if before != after:
        record(
            session,
            actor=Actor(person.display_name, person.id),
            at=now,
            action="update",
            entity="person",
            entity_id=person.id,
            before=before,
            after=after,
        )
    return person


def sent_rows_of_message(session: Session, *, outbox_id: int, person_id: int) -> list[Outbox]:
    """The outbox rows delivered in the same Telegram message as row ``outbox_id``."""
    row = session.get(Outbox, outbox_id)
    if row is None or row.person_id != person_id:
        return []
    if row.telegram_message_id is None:
        return [row]
    return list(
        session.scalars(
            select(Outbox).where(
                Outbox.person_id == person_id,
                Outbox.telegram_message_id == row.telegram_message_id,
            )
        )
    )
