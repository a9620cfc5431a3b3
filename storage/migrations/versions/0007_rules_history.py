"""member history: placements in cells and statuses over time, seeded from current rows

Every past figure counts a member where and as what they were in that month. The current rows
seed the history: one placement in the member's cell since before chibo knew (from_date NULL);
one status period, split at ``status_since`` when the member left the roll or became exempt
(before that date they are taken as full members, as the figures did until now).

Revision ID: 0007_rules_history
Revises: 0006_rules_signs
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0007_rules_history"
down_revision: str | None = "0006_rules_signs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUS = sa.Enum(
    "full",
    "probationary",
    "exempt",
    "transferred",
    "removed",
    name="member_status",
    native_enum=False,
    create_constraint=True,
    length=24,
)


def upgrade() -> None:
    placements = op.create_table(
        "member_placements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_placements_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_member_placements_org_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_placements")),
    )
    op.create_index(
        op.f("ix_member_placements_member_id"), "member_placements", ["member_id"], unique=False
    )
    op.create_index(
        "ix_member_placements_org", "member_placements", ["org_id", "from_date"], unique=False
    )
    statuses = op.create_table(
        "member_status_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("status", _STATUS, nullable=False),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_member_status_history_member_id_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_status_history")),
    )
    op.create_index(
        op.f("ix_member_status_history_member_id"),
        "member_status_history",
        ["member_id"],
        unique=False,
    )
    conn = op.get_bind()
    now = datetime.now(UTC)
    members = sa.table(
        "members",
        sa.column("id", sa.Integer),
        sa.column("org_id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("status_since", sa.Date),
    )
    place_rows, status_rows = [], []
    for mid, org_id, status, since in conn.execute(
        sa.select(members.c.id, members.c.org_id, members.c.status, members.c.status_since)
    ):
        place_rows.append(
            {
                "member_id": mid,
                "org_id": org_id,
                "from_date": None,
                "to_date": None,
                "source": "seed",
                "recorded_at": now,
            }
        )
        if since is not None and status in ("exempt", "transferred", "removed"):
            status_rows.append(
                {
                    "member_id": mid,
                    "status": "full",
                    "from_date": None,
                    "to_date": since,
                    "source": "seed",
                    "recorded_at": now,
                }
            )
            status_rows.append(
                {
                    "member_id": mid,
                    "status": status,
                    "from_date": since,
                    "to_date": None,
                    "source": "seed",
                    "recorded_at": now,
                }
            )
        else:
            status_rows.append(
                {
                    "member_id": mid,
                    "status": status,
                    "from_date": None,
                    "to_date": None,
                    "source": "seed",
                    "recorded_at": now,
                }
            )
    if place_rows:
        op.bulk_insert(placements, place_rows)
    if status_rows:
        op.bulk_insert(statuses, status_rows)


def downgrade() -> None:
    op.drop_table("member_status_history")
    op.drop_table("member_placements")
