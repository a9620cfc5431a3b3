"""The ``chibo`` command: run, demo, db, admin, calendar, reminders, notices, summary.

Every sub-command speaks the configured language (``CHIBO_LOCALE``, Vietnamese by default)
through the Babel catalogs, help texts included. A command that cannot do its work prints one
line saying what to run first and exits with status 2; it never prints a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from domain.clock import SystemClock
from domain.i18n import N_, Translator, pick_locale, translator
from domain.settings import Settings
from storage.db import Database
from storage.migrate import current_revision, head_revision, upgrade
from storage.seed import ensure_defaults

#: Modules that add sub-commands: each has ``add_commands(subparsers)``.
COMMAND_MODULES = ["bot.cli_admin", "bot.cli_calendar", "bot.cli_summary"]

EXIT_USAGE = 2

log = logging.getLogger(__name__)

#: argparse's own words, so ``--help`` and usage errors speak the CLI's language too.
ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("show program's version number and exit"),
)

ORIENTATION = N_(
    "chibo {version} — Sổ tay Chi bộ, a Telegram bot for party cells.\n"
    "\n"
    "Try it offline, without Telegram or setup:\n"
    "  chibo demo\n"
    "\n"
    "Set it up for real, in this order:\n"
    "  1. chibo db upgrade                  create the database ({database})\n"
    "  2. chibo admin template              write the import workbook, then fill it in\n"
    "  3. chibo admin import danh-sach.xlsx\n"
    "  4. chibo admin invite --org CODE --role secretary\n"
    "  5. chibo run                         needs TELEGRAM_BOT_TOKEN (and CHIBO_BOT_USERNAME)\n"
    "\n"
    "Every command: chibo --help; one command: chibo COMMAND --help"
)


class CliError(Exception):
    """A command cannot go on: ``message`` (already translated) is printed as one line."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def load_settings() -> Settings:
    """Read settings from the environment and ``.env``."""
    return Settings()


def version() -> str:
    """The installed version of chibo."""
    try:
        return metadata.version("chibo")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def _env_locale() -> str:
    try:
        return load_settings().locale
    except ValidationError:
        return os.environ.get("CHIBO_LOCALE", "vi")


def cli_translator(lang: str | None = None) -> Translator:
    """The CLI's translator: ``--lang`` if given, else ``CHIBO_LOCALE`` (Vietnamese)."""
    return translator(pick_locale(lang, None, _env_locale()))


def sqlite_file(url: str) -> Path | None:
    """The file of a file-based SQLite URL, or None (another database, or in memory)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if not parsed.drivername.startswith("sqlite"):
        return None
    name = parsed.database or ""
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def shown_url(url: str) -> str:
    """A database URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def db_detail(exc: BaseException) -> str:
    """The first line of a database error, without SQLAlchemy's link to its website."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line.split("(Background on this error")[0].strip()[:200]


def open_database(settings: Settings, tr: Translator | None = None) -> Database:
    """Open the settings' database, refusing a missing or out-of-date one with one line.

    A missing SQLite file is not created (``chibo db upgrade`` does that).

    Raises:
        CliError: What to run first.
    """
    _ = (tr or cli_translator()).gettext
    url = settings.database_url
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise CliError(
            _("there is no database yet ({path}); run first: chibo db upgrade").format(path=path)
        )
    try:
        db = Database.from_url(url)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise CliError(
            _("cannot open the database {url}: {detail}").format(
                url=shown_url(url), detail=db_detail(exc)
            )
        ) from exc
    try:
        current = current_revision(db.engine)
    except SQLAlchemyError as exc:
        db.dispose()
        raise CliError(
            _("cannot open the database {url}: {detail}").format(
                url=shown_url(url), detail=db_detail(exc)
            )
        ) from exc
    if current != head_revision():
        db.dispose()
        if current is None:
            raise CliError(
                _("the database {url} has no tables yet; run first: chibo db upgrade").format(
                    url=shown_url(url)
                )
            )
        raise CliError(
            _("the database schema is not up to date; run first: chibo db upgrade").format()
        )
    return db


@contextmanager
def database(settings: Settings, tr: Translator | None = None) -> Iterator[Database]:
    """:func:`open_database` as a context manager that disposes of the engine."""
    db = open_database(settings, tr)
    try:
        yield db
    finally:
        db.dispose()


def cmd_run(args: argparse.Namespace) -> int:
    """Start the real bot with long polling."""
    # Imported when the command runs: the polling stack adds about 0.15 s, the demo (test
    # double, seeding) about 0.3 s, to every other command's start (python -X importtime).
    # Imported when the command runs: the polling stack adds about 0.15 s, the demo (test
    # double, seeding) about 0.3 s, to every other command's start (python -X importtime).
    from bot.runner import run_polling

    _ = cli_translator().gettext
    settings = load_settings()
    if not settings.telegram_bot_token.strip():
        raise CliError(
            _(
                "TELEGRAM_BOT_TOKEN is not set. Set it (or put it in .env), "
                "or try the offline demo: chibo demo"
            ).format()
        )
    if not settings.token_is_valid():
        raise CliError(
            _(
                "TELEGRAM_BOT_TOKEN does not look like a Telegram bot token "
                "(expected 123456789:AA…)."
            ).format()
        )
    # The schema check below opens the database; it must exist and be current.
    open_database(settings).dispose()
    return run_polling(settings)


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the bot offline in the terminal on a seeded demo Khối."""
    from bot.demo import run_demo

    return run_demo(
        script=args.script, database_url=args.database_url, user=args.user, out_dir=args.out
    )


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply the schema migrations and insert missing defaults."""
    _ = cli_translator().gettext
    settings = load_settings()
    settings.ensure_sqlite_dir()
    try:
        db = Database.from_url(settings.database_url)
        try:
            before = current_revision(db.engine)
            upgrade(db.engine)
            with db.transaction() as session:
                ensure_defaults(session, now=SystemClock().now())
            after = current_revision(db.engine)
        finally:
            db.dispose()
    except (SQLAlchemyError, ImportError) as exc:
        raise CliError(
            _("cannot open the database {url}: {detail}").format(
                url=shown_url(settings.database_url), detail=db_detail(exc)
            )
        ) from exc
    if before == after:
        print(_("The database is up to date (revision {revision}).").format(revision=after))
    else:
        print(
            _("The database is now at revision {revision} (was {before}).").format(
                revision=after, before=before or "—"
            )
        )
    return 0


def cmd_orientation(args: argparse.Namespace) -> int:
    """``chibo`` alone: what it is and what to run first."""
    settings_url = "sqlite:///data/chibo.sqlite3"
    try:
        settings_url = load_settings().database_url
    except ValidationError:
        pass
    print(
        cli_translator()
        .gettext(ORIENTATION)
        .format(version=version(), database=shown_url(settings_url))
    )
    return 0


class _Formatter(argparse.HelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)


class ChiboParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line that points at ``--help``."""

    def error(self, message: str) -> NoReturn:
        """Print ``chibo admin: <problem> (see: chibo admin --help)`` and exit with 2."""
        hint = cli_translator().gettext("see: {command} --help").format(command=self.prog)
        self.exit(EXIT_USAGE, f"{self.prog}: {message} ({hint})\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    _ = cli_translator().gettext
    parser = ChiboParser(
        prog="chibo",
        description=_("Sổ tay Chi bộ — a Telegram bot for party cells."),
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"chibo {version()}")
    parser.set_defaults(func=cmd_orientation)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help=_("start the bot (long polling)"))
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help=_("run offline in the terminal on a demo Khối"))
    demo.add_argument(
        "--script", help=_("a file of demo lines (default: standard input if not a terminal)")
    )
    demo.add_argument(
        "--database-url",
        default=None,
        help=_("database for the demo (default: a temporary file, deleted at the end)"),
    )
    demo.add_argument("--user", default=None, help=_("demo user to start as"))
    demo.add_argument(
        "--out",
        default="chibo-demo-files",
        help=_("folder for the documents the bot sends (default: ./chibo-demo-files/)"),
    )
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help=_("database schema"))
    dbsub = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    up = dbsub.add_parser("upgrade", help=_("create or migrate the database"))
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


@contextmanager
def _argparse_speaks(tr: Translator) -> Iterator[None]:
    """Let argparse's own words (usage, errors) go through the CLI's catalog."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._ = tr.gettext  # type: ignore[attr-defined]
    argparse.ngettext = tr.ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def _setup_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    # Alembic's "Context impl SQLiteImpl" lines are not news for an operator.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chibo`` command."""
    _setup_logging()
    tr = cli_translator()
    try:
        with _argparse_speaks(tr):
            parser = build_parser()
            args = parser.parse_args(argv)
        func: Callable[[argparse.Namespace], int] = args.func
        return func(args)
    except CliError as exc:
        print(f"chibo: {exc.message}", file=sys.stderr)
        return exc.code
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        print(
            "chibo: " + tr.gettext("a setting is not valid: {problems}").format(problems=problems),
            file=sys.stderr,
        )
        return EXIT_USAGE
    except SQLAlchemyError as exc:
        print(
            "chibo: " + tr.gettext("database error: {detail}").format(detail=db_detail(exc)),
            file=sys.stderr,
        )
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader (head, less) has gone: stop quietly, as the other command-line tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
