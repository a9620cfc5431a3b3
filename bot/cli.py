"""The ``chibo`` command: run, demo, db, admin, calendar, reminders, summary."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence

from domain.settings import Settings

#: Modules that add sub-commands: each has ``add_commands(subparsers)``.
COMMAND_MODULES = ["bot.cli_admin", "bot.cli_calendar", "bot.cli_summary", "bot.cli_ops"]

EXIT_USAGE = 2


def load_settings() -> Settings:
    """Read settings from the environment and ``.env``."""
    return Settings()


def cmd_run(args: argparse.Namespace) -> int:
    """Start the real bot with long polling."""
    from bot.runner import run

    settings = load_settings()
    if not settings.telegram_bot_token.strip():
        print(
            "chibo: TELEGRAM_BOT_TOKEN is not set. Set it (or put it in .env), "
            "or try the offline demo: chibo demo",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if not settings.token_is_valid():
        print(
            "chibo: TELEGRAM_BOT_TOKEN does not look like a Telegram bot token "
            "(expected 123456789:AA…).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return run(settings, webhook_url=getattr(args, "webhook", None))


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the bot offline in the terminal on a seeded demo Khối."""
    from bot.demo import run_demo

    return run_demo(script=args.script, database_url=args.database_url, user=args.user)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply the schema migrations and insert missing defaults."""
    from storage.db import Database
    from storage.migrate import current_revision, upgrade
    from storage.seed import ensure_defaults

    settings = load_settings()
    settings.ensure_sqlite_dir()
    db = Database.from_url(settings.database_url)
    before = current_revision(db.engine)
    upgrade(db.engine)
    from domain.clock import SystemClock

    with db.transaction() as session:
        ensure_defaults(session, now=SystemClock().now())
    after = current_revision(db.engine)
    print(f"database at revision {after}" + ("" if before == after else f" (was {before})"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(prog="chibo", description="Sổ tay Chi bộ — Telegram bot")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the bot (long polling, or --webhook URL)")
    run.add_argument("--webhook", metavar="URL", help="serve Telegram's webhook at this URL")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="run offline in the terminal on a demo Khối")
    demo.add_argument("--script", help="a file of demo actions (default: stdin if not a tty)")
    demo.add_argument(
        "--database-url", default="sqlite://", help="database for the demo (default: in memory)"
    )
    demo.add_argument("--user", default=None, help="demo user to start as")
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="database schema")
    dbsub = db.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="apply migrations")
    up.set_defaults(func=cmd_db_upgrade)

    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chibo`` command."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
