"""A heavy read and what is built from it run in the document process: its own connection, a
read-only transaction, the bot's process only waiting on a future."""

from __future__ import annotations

import os

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.clock import ManualClock
from handlers.base import read_in_process
from storage.db import Database
from storage.demo_seed import seed_demo
from storage.models import Person


def people_and_pid(session: Session, prefix: str) -> tuple[str, int, int]:
    count = session.scalar(select(func.count()).select_from(Person)) or 0
    return prefix, int(count), os.getpid()


async def test_a_read_in_the_document_process_sees_what_is_committed(
    db: Database, clock: ManualClock
) -> None:
    with db.transaction() as session:
        seed_demo(session, now=clock.now())
    with db.reading() as session:
        expected = session.scalar(select(func.count()).select_from(Person))
    prefix, count, pid = await read_in_process(db, people_and_pid, "khối")
    assert (prefix, count) == ("khối", expected)
    assert count > 0
    assert pid != os.getpid()
