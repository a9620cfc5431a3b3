"""Start the real bot: check the schema, then long-poll Telegram."""

from __future__ import annotations

import sys

from telegram import Update

from bot.app import build_application
from bot.logs import configure
from domain.settings import Settings
from storage.db import Database
from storage.migrate import current_revision, head_revision


def run_polling(settings: Settings) -> int:
    """Run until interrupted. Refuses a database whose schema is behind."""
    configure(settings.log_level, token=settings.telegram_bot_token)
    settings.ensure_sqlite_dir()
    db = Database.from_url(settings.database_url)
    current, head = current_revision(db.engine), head_revision()
    if current != head:
        print(
            f"chibo: the database is at revision {current or 'none'}, the code needs {head}. "
            "Run: chibo db upgrade",
            file=sys.stderr,
        )
        return 2
    application = build_application(settings, db)
    application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    return 0
