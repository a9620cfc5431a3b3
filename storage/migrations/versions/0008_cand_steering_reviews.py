"""steering reviews: the steering group's half-yearly and yearly reviews, as held

One row per top organization, obligation (``steering_half_year`` / ``steering_annual``) and
period, with the date it was held and a short note. A stored catalog that still says
``discharged_by = "manual"`` for these two obligations is pointed at the new record, so the
reviews stop being chased once recorded.

Revision ID: 0008_cand_steering_reviews
Revises: 0007_rules_history
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_cand_steering_reviews"
down_revision: str | None = "0007_rules_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CODES = ("steering_half_year", "steering_annual")


def _repoint(old: str, new: str) -> None:
    obligations = sa.table(
        "obligations", sa.column("code", sa.String()), sa.column("spec", sa.JSON())
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(obligations.c.code, obligations.c.spec).where(obligations.c.code.in_(_CODES))
    ).all()
    for code, spec in rows:
        if isinstance(spec, dict) and spec.get("discharged_by") == old:
            bind.execute(
                obligations.update()
                .where(obligations.c.code == code)
                .values(spec={**spec, "discharged_by": new})
            )


def upgrade() -> None:
    op.create_table(
        "steering_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("top_id", sa.Integer(), nullable=False),
        sa.Column("obligation", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["people.id"], name=op.f("fk_steering_reviews_recorded_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["top_id"], ["organizations.id"], name=op.f("fk_steering_reviews_top_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_steering_reviews")),
        sa.UniqueConstraint(
            "top_id", "obligation", "period", name=op.f("uq_steering_reviews_top_id")
        ),
    )
    _repoint("manual", "steering_review")


def downgrade() -> None:
    _repoint("steering_review", "manual")
    op.drop_table("steering_reviews")
