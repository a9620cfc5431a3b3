"""The shipped holidays keep only what an official text sources, in a database too."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from storage.db import make_engine
from storage.migrate import upgrade


def test_the_migration_drops_the_unsourced_shipped_days_from_a_loaded_database(
    tmp_path: Path,
) -> None:
    """A database that loaded the old shipped holidays file: the unsourced 31/08 ↔ 22/08 swap
    and 24/11 go, the Tết Dương lịch swap names its document, an admin's own day stays."""
    from datetime import date

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0009_rules_committee_reports")
    holidays = sa.table(
        "holidays",
        sa.column("day", sa.Date()),
        sa.column("name", sa.String()),
        sa.column("kind", sa.String()),
        sa.column("source", sa.String()),
    )
    settings = sa.table(
        "settings",
        sa.column("key", sa.String()),
        sa.column("value", sa.JSON()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        sa.column("updated_by", sa.String()),
    )
    new_year = "Thông báo của Chính phủ về lịch nghỉ Tết Dương lịch 2026 (hoán đổi ngày làm việc)"
    national = "Thông báo của Chính phủ về lịch nghỉ lễ Quốc khánh 2026 (hoán đổi ngày làm việc)"
    culture = (
        "Nghị quyết 80-NQ/TW (Ngày Văn hóa Việt Nam 24/11, người lao động được nghỉ hưởng lương)"
    )
    rows = [
        (date(2026, 1, 2), "Nghỉ hoán đổi dịp Tết Dương lịch", "day_off", new_year),
        (date(2026, 1, 10), "Làm bù cho ngày nghỉ 02/01/2026", "working_day", new_year),
        (
            date(2026, 8, 31),
            "Nghỉ hoán đổi dịp Quốc khánh (làm bù thứ Bảy 22/8/2026)",
            "day_off",
            national,
        ),
        (date(2026, 8, 22), "Làm bù cho ngày nghỉ 31/8/2026", "working_day", national),
        (date(2026, 12, 31), "Nghỉ theo quyết định của Tỉnh ủy", "day_off", "QĐ 1-QĐ/TU"),
    ]
    added = [
        {"name": "Ngày Văn hóa Việt Nam", "month": 11, "day": 24, "lunar": False,
         "since": 2026, "until": None, "source": culture},
        {"name": "Ngày mới", "month": 3, "day": 1, "lunar": False, "since": 2030,
         "until": None, "source": "Luật X"},
    ]  # fmt: skip
    with engine.begin() as conn:
        for day, name, kind, source in rows:
            conn.execute(holidays.insert().values(day=day, name=name, kind=kind, source=source))
        conn.execute(
            settings.insert().values(
                key="holiday_rules",
                value={"substitute": True, "added": added},
                updated_at=datetime(2026, 11, 1, tzinfo=UTC),
                updated_by="admin",
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        left = {d: s for d, s in conn.execute(sa.select(holidays.c.day, holidays.c.source))}
        value = conn.execute(
            sa.select(settings.c.value).where(settings.c.key == "holiday_rules")
        ).scalar_one()
    assert sorted(left) == [date(2026, 1, 2), date(2026, 1, 10), date(2026, 12, 31)]
    assert "12729/VPCP-KGVX" in left[date(2026, 1, 2)]
    assert "12729/VPCP-KGVX" in left[date(2026, 1, 10)]
    assert left[date(2026, 12, 31)] == "QĐ 1-QĐ/TU"
    assert [a["name"] for a in value["added"]] == ["Ngày mới"]
    assert value["substitute"] is True
    engine.dispose()
