"""holidays: Government decisions (days off, working Saturdays) with their source

The law's public holidays are computed for every year (domain.rules.holidays); the table keeps
only the yearly decisions. Rows the old shipped file typed for 2026–2028 are dropped: the
computation gives them, and its guesses for 2027–2028 were not decisions.

Revision ID: 0005_rules_calendar
Revises: 0004_prod_lease
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_rules_calendar"
down_revision: str | None = "0004_prod_lease"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Names of the days the shipped holidays.toml listed before this revision.
_OLD_SHIPPED = (
    "Tết Dương lịch",
    "Tết Nguyên đán Bính Ngọ (27 tháng Chạp – mùng 6 tháng Giêng)",
    "Giỗ Tổ Hùng Vương (10/3 âm lịch)",
    "Nghỉ bù Giỗ Tổ Hùng Vương (26/4 là Chủ nhật)",
    "Ngày Giải phóng miền Nam, thống nhất đất nước",
    "Ngày Quốc tế Lao động",
    "Quốc khánh (2/9 và 01 ngày liền kề)",
    "Tết Nguyên đán Đinh Mùi (mùng 1 = 06/02/2027)",
    "Nghỉ bù Ngày Quốc tế Lao động (1/5 là thứ Bảy)",
    "Nghỉ bù Tết Dương lịch (1/1 là thứ Bảy)",
    "Tết Nguyên đán Mậu Thân (mùng 1 = 26/01/2028)",
    "Nghỉ bù Ngày Giải phóng miền Nam (30/4 là Chủ nhật)",
    "Nghỉ bù Quốc khánh (2/9 là thứ Bảy)",
)


def upgrade() -> None:
    with op.batch_alter_table("holidays") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="day_off")
        )
        batch.add_column(sa.Column("source", sa.String(length=200), nullable=True))
    holidays = sa.table("holidays", sa.column("name", sa.String))
    op.execute(holidays.delete().where(holidays.c.name.in_(_OLD_SHIPPED)))
    # A loaded catalog that asked grassroots party committees for a report: only cells submit
    # reports (/report), so the committee is no longer asked (the catalog loader now refuses it).
    obligations = sa.table(
        "obligations", sa.column("code", sa.String), sa.column("spec", sa.JSON)
    )
    conn = op.get_bind()
    for code, spec in conn.execute(sa.select(obligations.c.code, obligations.c.spec)).all():
        if not isinstance(spec, dict) or spec.get("discharged_by") != "report":
            continue
        owed = [k for k in spec.get("owed_by", []) if k in ("cell", "grassroots_cell")]
        if owed != spec.get("owed_by"):
            conn.execute(
                obligations.update()
                .where(obligations.c.code == code)
                .values(spec={**spec, "owed_by": owed or ["cell", "grassroots_cell"]})
            )


def downgrade() -> None:
    with op.batch_alter_table("holidays") as batch:
        batch.drop_column("source")
        batch.drop_column("kind")
