"""Regenerate the initial migration from the models (only while nothing is deployed).

Run: python tools/regen_initial_migration.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from storage.db import make_engine
from storage.migrate import MIGRATIONS, alembic_config

target = MIGRATIONS / "versions" / "0001_initial_schema.py"
target.unlink(missing_ok=True)
with tempfile.TemporaryDirectory() as tmp:
    engine = make_engine(f"sqlite:///{Path(tmp) / 'gen.db'}")
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
print(f"wrote {target}")
