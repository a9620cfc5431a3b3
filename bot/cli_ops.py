"""``chibo backup``, ``chibo restore`` and ``chibo admin export-person|erase-person``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cli import EXIT_USAGE, cli_translator, load_settings, open_database
from domain.clock import SystemClock
from domain.errors import NotFound
from domain.i18n import N_, SUPPORTED, Translator, pick_locale, translator
from domain.text import excel_safe
from storage import backup, lease, privacy
from storage.audit import Actor
from storage.db import Database
from storage.migrate import is_up_to_date

ACTOR = Actor.system("cli:privacy")

#: Sheet titles of the export workbook, by section of :func:`storage.privacy.export_person`.
SECTIONS = {
    "subject": N_("Subject"),
    "member": N_("Member record"),
    "candidate": N_("Candidate record"),
    "candidate_events": N_("Candidate steps"),
    "telegram_accounts": N_("Telegram account"),
    "roles": N_("Roles"),
    "invites_used": N_("Invites used"),
    "attendance": N_("Meeting attendance"),
    "reviews": N_("Monthly reviews"),
    "commitments": N_("Yearly commitments"),
    "flags": N_("Warnings"),
    "meetings_as_guest": N_("Meetings as guest"),
    "notice_replies": N_("Notice replies"),
    "drafts": N_("Unfinished conversations"),
    "snoozes": N_("Snoozed reminders"),
    "messages": N_("Messages sent by the bot"),
    "audit": N_("Change history"),
    "actions": N_("Actions in the bot"),
    "other_mentions": N_("Other mentions"),
}


def _translator(args: argparse.Namespace) -> Translator:
    return translator(pick_locale(getattr(args, "lang", None), None, load_settings().locale))


def _fail(message: str) -> int:
    print(f"chibo: {message}", file=sys.stderr)
    return EXIT_USAGE


def _database() -> Database:
    settings = load_settings()
    settings.ensure_sqlite_dir()
    return Database.from_url(settings.database_url)


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``backup``, ``restore`` and, under ``admin``, ``export-person`` / ``erase-person``."""
    _ = cli_translator().gettext
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--lang", choices=SUPPORTED, default=None, help=_("output language"))

    bk = subparsers.add_parser("backup", parents=[common], help=_("back the database up"))
    bk.add_argument("--out", default=None, help=_("file to write (default: backups/chibo-<time>)"))
    bk.set_defaults(func=cmd_backup)

    rs = subparsers.add_parser(
        "restore", parents=[common], help=_("replace the database by a backup (bot stopped)")
    )
    rs.add_argument("file", help=_("a file written by chibo backup"))
    rs.add_argument("--yes", action="store_true", help=_("really replace the current data"))
    rs.set_defaults(func=cmd_restore)

    admin = subparsers.choices.get("admin")
    sub = None
    if admin is not None:
        for action in admin._actions:
            if isinstance(action, argparse._SubParsersAction):
                sub = action
    if sub is None:  # no `chibo admin` group: put the commands at the top level
        sub = subparsers

    ex = sub.add_parser(
        "export-person", parents=[common], help=_("everything held about a member or candidate")
    )
    ex.add_argument("code", help=_("member or candidate code"))
    ex.add_argument("--out", default=".", help=_("folder for <code>.json and <code>.xlsx"))
    ex.set_defaults(func=cmd_export_person)

    er = sub.add_parser(
        "erase-person", parents=[common], help=_("erase a member's or candidate's personal data")
    )
    er.add_argument("code", help=_("member or candidate code"))
    er.add_argument("--yes", action="store_true", help=_("really erase (cannot be undone)"))
    er.set_defaults(func=cmd_erase_person)


def _unknown(t: Translator, code: str) -> str:
    return t.gettext("no member or candidate has the code {code}").format(code=code)


def _ready(db: Database, t: Translator) -> int | None:
    try:
        current = is_up_to_date(db.engine)
    except Exception as exc:  # noqa: BLE001 - the database cannot be opened
        return _fail(
            t.gettext("cannot open the database: {detail}").format(detail=type(exc).__name__)
        )
    if not current:
        return _fail(t.gettext("the database schema is not up to date; run: chibo db upgrade"))
    return None


def cmd_backup(args: argparse.Namespace) -> int:
    """Write a consistent backup while the bot runs."""
    t = _translator(args)
    db = open_database(load_settings(), t)
    try:
        suffix = ".sqlite3" if db.dialect == "sqlite" else ".dump"
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        target = Path(args.out or f"backups/chibo-{stamp}{suffix}")
        try:
            backup.backup(db.engine, target)
        except backup.BackupError as exc:
            return _fail(str(exc))
        print(
            t.gettext("backup written: {file} ({size} bytes)").format(
                file=target, size=target.stat().st_size
            )
        )
        return 0
    finally:
        db.dispose()


def cmd_restore(args: argparse.Namespace) -> int:
    """Replace the data by a backup; refuses while a bot process is active."""
    t = _translator(args)
    if not args.yes:
        return _fail(
            t.gettext("this replaces every record by the backup's; stop the bot, then add --yes")
        )
    db = _database()
    try:
        try:
            with db.transaction() as session:
                holder = lease.holder_of(session, "bot")
                active = holder is not None and holder.expires_at > datetime.now(UTC)
        except Exception:  # noqa: BLE001 - an empty or older database has no lease table
            active = False
        if active:
            return _fail(t.gettext("a bot process is running on this database; stop it first"))
        try:
            backup.restore(db.engine, Path(args.file))
        except backup.BackupError as exc:
            return _fail(str(exc))
        print(t.gettext("restored from {file}").format(file=args.file))
        return 0
    finally:
        db.dispose()


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, int | float | bool):
        return value
    if isinstance(value, str):
        return excel_safe(value)
    return excel_safe(json.dumps(value, ensure_ascii=False))


def write_workbook(data: dict[str, Any], path: Path, t: Translator) -> None:
    """One sheet per section: a header row of field names, then one row per record."""
    # openpyxl loads for this command only, not at every start of `chibo` (`chibo run` too).
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for key, section in data.items():
        rows = section if isinstance(section, list) else [section]
        title = t.gettext(SECTIONS.get(key, key))[:31]
        ws = wb.create_sheet(title)
        if not rows:
            ws.append([t.gettext("(nothing)")])
            continue
        fields = list(dict.fromkeys(f for row in rows for f in row))
        ws.append(fields)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([_cell(row.get(f)) for f in fields])
        ws.freeze_panes = "A2"
        for column in ws.columns:
            width = max(len(str(c.value or "")) for c in column)
            ws.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 60)
    wb.save(path)


def cmd_export_person(args: argparse.Namespace) -> int:
    """Write <code>.json and <code>.xlsx with everything held about the person."""
    t = _translator(args)
    db = open_database(load_settings(), t)
    try:
        if (code := _ready(db, t)) is not None:
            return code
        try:
            with db.transaction() as session:
                data = privacy.export_person(session, args.code)
        except NotFound:
            return _fail(_unknown(t, args.code))
        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in args.code)
        json_path, xlsx_path = folder / f"{safe}.json", folder / f"{safe}.xlsx"
        json_path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        write_workbook(data, xlsx_path, t)
        print(t.gettext("written: {json} and {xlsx}").format(json=json_path, xlsx=xlsx_path))
        return 0
    finally:
        db.dispose()


def cmd_erase_person(args: argparse.Namespace) -> int:
    """Anonymize the person everywhere (one transaction), leaving an audit record."""
    t = _translator(args)
    if not args.yes:
        return _fail(
            t.gettext(
                "erasing cannot be undone; export the data first (chibo admin export-person), "
                "then add --yes"
            )
        )
    db = open_database(load_settings(), t)
    try:
        if (code := _ready(db, t)) is not None:
            return code
        try:
            with db.transaction() as session:
                counts = privacy.erase_person(
                    session, args.code, actor=ACTOR, now=SystemClock().now()
                )
        except NotFound:
            return _fail(_unknown(t, args.code))
        print(
            t.gettext("erased: {rows} records changed; counts in reports are kept").format(
                rows=sum(counts.values())
            )
        )
        return 0
    finally:
        db.dispose()
