"""A grassroots party committee's own reports (domain.rules.reporting): what it may submit,
and the migration that asks stored calendars for them again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from domain.calendar import default_catalog
from domain.errors import NotInScope
from domain.rules.reporting import submits_report
from domain.vocab import OrgKind
from storage import reports, reviews
from storage.db import Database, make_engine
from storage.demo_seed import DemoKhoi
from storage.migrate import upgrade
from storage.report_kinds import KINDS
from tests.storage.test_reviews import ACTOR, NOW, TODAY, khoi

__all__ = ["khoi"]


def test_who_submits_which_report() -> None:
    assert submits_report(OrgKind.CELL, "plan_annual")
    assert submits_report(OrgKind.GRASSROOTS_CELL, "remedy_quarterly")
    assert submits_report(OrgKind.COMMITTEE, "remedy_quarterly")
    assert submits_report(OrgKind.COMMITTEE, "remedy_annual")
    assert not submits_report(OrgKind.COMMITTEE, "plan_annual")
    assert not submits_report(OrgKind.TOP, "remedy_quarterly")
    # The shipped calendar asks committees for their remedy reports, and for nothing a cell does.
    owed = {o.code for o in default_catalog().active if OrgKind.COMMITTEE in o.owed_by}
    assert {"remedy_quarterly", "remedy_annual"} <= owed
    assert not owed & {"regular_meeting", "commitment_review", "thematic_meeting", "plan_annual"}


def test_a_committee_report_lists_its_cells_and_a_plan_report_is_refused(
    db: Database, khoi: DemoKhoi
) -> None:
    committee = khoi.orgs["DBSYT"]
    with db.transaction() as s:
        v = reports.view(
            s, org_id=committee, kind=KINDS["remedy_quarterly"], period="2026-Q4", today=TODAY
        )
        assert v.org_name == "Đảng bộ Sở Y tế" and v.issuer_name == "Đảng ủy Sở Y tế"
        assert v.doc_code == "ĐU"
        assert v.figures["from_cells"] is True
        assert [(c["code"], c["submitted"]) for c in v.figures["cells"]] == [
            ("CBBV-DK", False),
            ("CBVP-SYT", False),
        ]
        # The roll adds up the two cells' members to review.
        roll = {
            cid: reviews.roll_counts(s, org_id=cid, months=[(2026, 11)])[(2026, 11)]
            for cid in (khoi.orgs["CBBV-DK"], khoi.orgs["CBVP-SYT"])
        }
        assert v.figures["months"][-1]["on_roll"] == sum(roll.values()) > 0
        with pytest.raises(NotInScope):
            reports.view(
                s, org_id=committee, kind=KINDS["plan_annual"], period="2026", today=TODAY
            )
        with pytest.raises(NotInScope):
            reports.reopen(
                s,
                org_id=khoi.top_id,
                kind=KINDS["remedy_quarterly"],
                period="2026-Q4",
                reason="x",
                actor=ACTOR,
                now=NOW,
            )


def test_the_migration_asks_a_stored_calendar_for_the_committees_reports_again(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0008_cand_steering_reviews")
    obligations = sa.table(
        "obligations",
        sa.column("code", sa.String()),
        sa.column("spec", sa.JSON()),
        sa.column("rule_source", sa.String()),
        sa.column("active", sa.Boolean()),
        sa.column("loaded_at", sa.DateTime(timezone=True)),
    )
    cells = ["cell", "grassroots_cell"]
    rows = {
        "remedy_quarterly": {"discharged_by": "report", "report_kind": "remedy_quarterly"},
        "remedy_annual": {"discharged_by": "report", "report_kind": "remedy_annual"},
        "plan_annual": {"discharged_by": "report", "report_kind": "plan_annual"},
        "regular_meeting": {"discharged_by": "regular_meeting"},
    }
    at = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for code, spec in rows.items():
            conn.execute(
                obligations.insert().values(
                    code=code,
                    spec={**spec, "owed_by": cells},
                    rule_source="r",
                    active=True,
                    loaded_at=at,
                )
            )
    upgrade(engine)
    with engine.connect() as conn:
        owed = dict(conn.execute(sa.select(obligations.c.code, obligations.c.spec)).all())
    assert owed["remedy_quarterly"]["owed_by"] == [*cells, "committee"]
    assert owed["remedy_annual"]["owed_by"] == [*cells, "committee"]
    assert owed["plan_annual"]["owed_by"] == cells
    assert owed["regular_meeting"]["owed_by"] == cells
    engine.dispose()
