"""reviews: the sign picked from the 27 signs, and the plan's words (remedied added)

The monthly comment uses the plan's words: "đã khắc phục" (new value ``remedied``), "đang khắc
phục" (the existing ``progressing``), "chưa khắc phục" (the existing ``no_change``) and "phát
hiện biểu hiện mới" (``new_sign``). Existing records keep their values, which now read with the
plan's words; a new sign recorded before the list keeps its typed description as the note.

Revision ID: 0006_rules_signs
Revises: 0005_rules_calendar
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_rules_signs"
down_revision: str | None = "0005_rules_calendar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW = "outcome IN ('remedied', 'progressing', 'no_change', 'new_sign')"
_OLD = "outcome IN ('progressing', 'no_change', 'new_sign')"


def upgrade() -> None:
    with op.batch_alter_table("reviews", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_reviews_review_outcome"), type_="check")
        batch.create_check_constraint(op.f("ck_reviews_review_outcome"), sa.text(_NEW))
        batch.add_column(sa.Column("sign_code", sa.String(length=8), nullable=True))


def downgrade() -> None:
    reviews = sa.table("reviews", sa.column("outcome", sa.String))
    op.execute(
        reviews.update().where(reviews.c.outcome == "remedied").values(outcome="progressing")
    )
    with op.batch_alter_table("reviews", recreate="always") as batch:
        batch.drop_column("sign_code")
        batch.drop_constraint(op.f("ck_reviews_review_outcome"), type_="check")
        batch.create_check_constraint(op.f("ck_reviews_review_outcome"), sa.text(_OLD))
