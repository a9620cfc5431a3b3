"""holiday sources: the shipped decisions a database holds keep only what an official text sources

Earlier shipped holidays files (loaded into the database with ``chibo calendar load``) carried
two days no official text could be found for — a swap of Monday 31/08/2026 with Saturday
22/08/2026 — and Ngày Văn hóa Việt Nam (24/11) as a public holiday from 2026, which the Labour
Code does not yet list. Rows exactly as shipped (same day, name and source) are removed; the
Tết Dương lịch 2026 swap keeps its days and now names its document (Công văn 12729/VPCP-KGVX).
Days an admin typed with a source of their own are left alone.

Revision ID: 0010_rules_holiday_sources
Revises: 0009_rules_committee_reports
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0010_rules_holiday_sources"
down_revision: str | None = "0009_rules_committee_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_NEW_YEAR = (
    "Thông báo của Chính phủ về lịch nghỉ Tết Dương lịch 2026 (hoán đổi ngày làm việc)"
)
_NEW_YEAR = (
    "Công văn 12729/VPCP-KGVX ngày 25/12/2025 của Văn phòng Chính phủ (nghỉ Tết Dương lịch 2026)"
)
_OLD_NATIONAL_DAY = (
    "Thông báo của Chính phủ về lịch nghỉ lễ Quốc khánh 2026 (hoán đổi ngày làm việc)"
)
_UNSOURCED = (
    (date(2026, 8, 31), "Nghỉ hoán đổi dịp Quốc khánh (làm bù thứ Bảy 22/8/2026)"),
    (date(2026, 8, 22), "Làm bù cho ngày nghỉ 31/8/2026"),
)
_OLD_CULTURE_SOURCE = (
    "Nghị quyết 80-NQ/TW (Ngày Văn hóa Việt Nam 24/11, người lao động được nghỉ hưởng lương)"
)


def upgrade() -> None:
    holidays = sa.table(
        "holidays",
        sa.column("day", sa.Date()),
        sa.column("name", sa.String()),
        sa.column("source", sa.String()),
    )
    bind = op.get_bind()
    for day, name in _UNSOURCED:
        bind.execute(
            holidays.delete().where(
                holidays.c.day == day,
                holidays.c.name == name,
                holidays.c.source == _OLD_NATIONAL_DAY,
            )
        )
    bind.execute(
        holidays.update()
        .where(
            holidays.c.day.in_([date(2026, 1, 2), date(2026, 1, 10)]),
            holidays.c.source == _OLD_NEW_YEAR,
        )
        .values(source=_NEW_YEAR)
    )
    settings = sa.table("settings", sa.column("key", sa.String()), sa.column("value", sa.JSON()))
    value = bind.execute(
        sa.select(settings.c.value).where(settings.c.key == "holiday_rules")
    ).scalar()
    if isinstance(value, dict) and isinstance(value.get("added"), list):
        kept = [
            a
            for a in value["added"]
            if not (
                isinstance(a, dict)
                and a.get("month") == 11
                and a.get("day") == 24
                and a.get("source") == _OLD_CULTURE_SOURCE
            )
        ]
        if kept != value["added"]:
            bind.execute(
                settings.update()
                .where(settings.c.key == "holiday_rules")
                .values(value={**value, "added": kept})
            )


def downgrade() -> None:
    """Nothing to restore: the removed days were never sourced."""
