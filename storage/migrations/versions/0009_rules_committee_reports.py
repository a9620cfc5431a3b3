"""committee reports: grassroots party committees owe their remedy reports again

A grassroots party committee now drafts (from its cells' reports), submits and reopens its own
quarterly and annual reports on remedying degradation in /report. A stored catalog whose
remedy reports are owed by cells only (as revision 0005 left them) asks the committees again,
as the shipped calendar does. No table changes.

Revision ID: 0009_rules_committee_reports
Revises: 0008_cand_steering_reviews
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_rules_committee_reports"
down_revision: str | None = "0008_cand_steering_reviews"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The report kinds a committee drafts from its cells (domain.rules.reporting).
_KINDS = ("remedy_quarterly", "remedy_annual")
_CELLS = ["cell", "grassroots_cell"]


def _set_owed(add: bool) -> None:
    obligations = sa.table(
        "obligations", sa.column("code", sa.String()), sa.column("spec", sa.JSON())
    )
    bind = op.get_bind()
    for code, spec in bind.execute(sa.select(obligations.c.code, obligations.c.spec)).all():
        if not isinstance(spec, dict) or spec.get("discharged_by") != "report":
            continue
        if spec.get("report_kind") not in _KINDS:
            continue
        owed = list(spec.get("owed_by", []))
        if add and owed == _CELLS:
            owed = [*_CELLS, "committee"]
        elif not add and "committee" in owed:
            owed = [k for k in owed if k != "committee"]
        else:
            continue
        bind.execute(
            obligations.update()
            .where(obligations.c.code == code)
            .values(spec={**spec, "owed_by": owed})
        )


def upgrade() -> None:
    _set_owed(True)


def downgrade() -> None:
    _set_owed(False)
