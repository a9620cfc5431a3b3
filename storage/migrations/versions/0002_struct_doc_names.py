"""organizations: the committee's name and the code of the document number

Revision ID: 0002_struct_doc_names
Revises: 0001
Create Date: 2026-11-26 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_struct_doc_names"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("committee_name", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("doc_code", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("doc_code")
        batch.drop_column("committee_name")
