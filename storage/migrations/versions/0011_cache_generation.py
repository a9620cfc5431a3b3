"""cache generation: a counter raised by every write to people, roles, organizations, members
and settings

The bot keeps the sender's identity and roles, the organizations below them, a cell's roll and
the settings in a process-wide cache; an entry is trusted only while this counter is the one it
was read under. Triggers raise the counter in every transaction that writes those tables (on
PostgreSQL once, as it commits), so a write by any process (the bot, the command line, the
importer) is seen by the next transaction to begin after it commits; a restore gives it a fresh
value (storage.backup). The counter starts at a random value, so a table dropped and made again
never repeats a value an old entry carries.

Revision ID: 0011_cache_generation
Revises: 0010_rules_holiday_sources
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_cache_generation"
down_revision: str | None = "0010_rules_holiday_sources"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The tables whose writes change what the cache holds (storage.cache.WATCHED).
_WATCHED = ("people", "role_assignments", "organizations", "members", "settings")
_BUMP = "UPDATE cache_generation SET value = value + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "cache_generation",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cache_generation")),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            "INSERT INTO cache_generation (id, value) "
            "VALUES (1, floor(random() * 1000000000000)::bigint)"
        )
        # Raised once per transaction, when it commits: deferred triggers run at COMMIT, so
        # the counter's row is locked only while the transaction commits, not for the whole
        # of a long one (an import), and concurrent writers never wait on each other for it.
        op.execute(
            "CREATE FUNCTION chibo_bump_generation() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF current_setting('chibo.generation_raised', true) IS DISTINCT FROM 'yes' THEN "
            f"{_BUMP}; "
            "PERFORM set_config('chibo.generation_raised', 'yes', true); "
            "END IF; "
            "RETURN NULL; "
            "END $$"
        )
        for table in _WATCHED:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER chibo_generation_{table} "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "DEFERRABLE INITIALLY DEFERRED "
                "FOR EACH ROW EXECUTE FUNCTION chibo_bump_generation()"
            )
            # TRUNCATE has no row triggers: a statement trigger, at once.
            op.execute(
                f"CREATE TRIGGER chibo_generation_{table}_truncate "
                f"AFTER TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION chibo_bump_generation()"
            )
        return
    op.execute(
        "INSERT INTO cache_generation (id, value) VALUES (1, abs(random() % 1000000000000))"
    )
    for table in _WATCHED:
        for verb in ("insert", "update", "delete"):
            op.execute(
                f"CREATE TRIGGER chibo_generation_{table}_{verb} AFTER {verb.upper()} ON {table} "
                f"BEGIN {_BUMP}; END"
            )


def downgrade() -> None:
    bind = op.get_bind()
    for table in _WATCHED:
        if bind.dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS chibo_generation_{table} ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS chibo_generation_{table}_truncate ON {table}")
        else:
            for verb in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS chibo_generation_{table}_{verb}")
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS chibo_bump_generation()")
    op.drop_table("cache_generation")
