"""A heavy read and what is built from it run in the document process: its own connection, a
read-only transaction, the bot's process only waiting on a future."""

from __future__ import annotations

import os
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from documents.summary_export import ExportRequest, Seen, export_xlsx
from domain.clock import ManualClock
from domain.errors import NotInScope
from domain.rules.periods import parse_period
from handlers.base import DOCUMENT_NICENESS, in_process, read_in_process
from handlers.summary import ScreenRequest, screen_in_process
from storage.db import Database
from storage.demo_seed import seed_demo
from storage.models import Person
from storage.summary import FuturePeriod, Subject


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


async def test_documents_are_built_at_a_lower_cpu_priority_than_the_bot() -> None:
    """The bot's replies get the processor first while a leader's file is being built."""
    mine = os.nice(0)
    theirs = await in_process(os.nice, 0)
    assert theirs == min(mine + DOCUMENT_NICENESS, 19)


def _future(session: Session) -> None:
    raise FuturePeriod(period="2027-01", today="16/11/2026")


async def test_an_error_raised_in_the_document_process_arrives_whole(db: Database) -> None:
    with pytest.raises(FuturePeriod) as raised:
        await read_in_process(db, _future)
    assert raised.value.params == {"period": "2027-01", "today": "16/11/2026"}


async def test_a_summary_file_is_read_and_built_within_the_persons_scope(
    db: Database, clock: ManualClock
) -> None:
    with db.transaction() as session:
        khoi = seed_demo(session, now=clock.now())
    today = date(2026, 11, 16)

    def request(user: str, subject: Subject) -> ExportRequest:
        return ExportRequest(
            person_id=khoi.users[user].person_id,
            period=parse_period("2026-11"),
            subject=subject,
            today=today,
            now=clock.now(),
            tz=ZoneInfo("Asia/Ho_Chi_Minh"),
            locale="vi",
        )

    own = Subject("org", org_id=khoi.orgs["CBDIEN"])
    out = await read_in_process(db, export_xlsx, request("lanh_dao", own))
    assert out.content.startswith(b"PK") and out.filename == "tong-hop-2026-11-CBDIEN.xlsx"
    assert out.seen == Seen("2026-11", own.key, 1, out.seen.members_named)
    # A cell's secretary asking for the whole Khối's committee: refused inside the read.
    other = Subject("org", org_id=khoi.orgs["DUK"])
    with pytest.raises(NotInScope):
        await read_in_process(db, export_xlsx, request("bt_bv", other))


async def test_a_summary_screen_is_read_and_rendered_in_the_document_process(
    db: Database, clock: ManualClock
) -> None:
    """The bot only waits while the summary behind a screen is read (seconds for a year of the
    whole Khối): the document process reads it within the person's scope and renders the
    screen, exactly as it would be rendered here."""
    with db.transaction() as session:
        khoi = seed_demo(session, now=clock.now())

    def request(user: str, view: str, subject: Subject) -> ScreenRequest:
        return ScreenRequest(
            ExportRequest(
                person_id=khoi.users[user].person_id,
                period=parse_period("2026-11"),
                subject=subject,
                today=date(2026, 11, 16),
                now=clock.now(),
                tz=ZoneInfo("Asia/Ho_Chi_Minh"),
                locale="vi",
            ),
            view,
            0,
        )

    main = request("lanh_dao", "m", Subject())
    out = await read_in_process(db, screen_in_process, main)
    with db.reading() as session:
        assert out == screen_in_process(session, main)
    assert "sum:x:2026-11:-:0" in [d for row in out.rows for _label, d in row]
    assert out.seen is None  # the headline names nobody
    # A list naming members carries what its audit row records.
    named = await read_in_process(db, screen_in_process, request("lanh_dao", "abs", Subject()))
    assert named.seen is not None and named.seen.period_key == "2026-11"
    # A secretary asking for another organization: refused inside the read.
    other = Subject("org", org_id=khoi.orgs["DUK"])
    with pytest.raises(NotInScope):
        await read_in_process(db, screen_in_process, request("bt_bv", "m", other))


def _parallel_query(session: Session) -> str | None:
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return None
    return str(session.execute(text("SHOW max_parallel_workers_per_gather")).scalar())


async def test_the_document_process_reads_without_parallel_workers(db: Database) -> None:
    """On PostgreSQL a year of the whole Khối read with parallel workers took every processor
    (the backend and two workers, at the bot's priority) while secretaries tapped."""
    got = await read_in_process(db, _parallel_query)
    if db.dialect == "postgresql":
        assert got == "0"
        with db.reading() as session:  # the bot's own connections keep the server's setting
            assert _parallel_query(session) != "0"
    else:
        assert got is None
