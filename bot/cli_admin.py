"""``chibo admin``: the import workbook, importing it, invites, and role assignments.

Every command but ``template`` opens the database named by the settings, refuses a missing or
out-of-date one with one line (run ``chibo db upgrade`` first), and writes with the audited
actor ``cli:admin``. Output is Vietnamese unless ``--lang en`` (or ``CHIBO_LOCALE``) says
otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import select

from bot.cli import EXIT_USAGE, CliError, cli_translator, database, load_settings
from domain.access import ROLE_NAMES
from domain.clock import SystemClock, local_today
from domain.errors import ChiboError, NotFound
from domain.i18n import SUPPORTED, Translator
from domain.settings import Settings
from storage.audit import Actor, record
from storage.db import Database
from storage.models import OrgType, Role
from storage.orgs import by_code
from storage.people import (
    create_invite,
    list_pending_invites,
    list_roles,
    revoke_invite,
    revoke_role,
)

ACTOR = Actor.system("cli:admin")
EXIT_INVALID = 1


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``chibo admin template|import|invite|invites|revoke-invite|users|revoke``."""
    _ = cli_translator().gettext
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--lang", choices=SUPPORTED, default=None, help=_("output language (default: vi)")
    )
    admin = subparsers.add_parser("admin", help=_("administration: import, invites, roles"))
    sub = admin.add_subparsers(dest="admin_command", metavar="COMMAND", required=True)

    template = sub.add_parser(
        "template", parents=[common], help=_("write the import workbook (needs no database)")
    )
    template.add_argument("--out", default="danh-sach.xlsx", help=_("file to write"))
    template.add_argument("--force", action="store_true", help=_("overwrite an existing file"))
    template.set_defaults(func=cmd_template)

    imp = sub.add_parser("import", parents=[common], help=_("import organizations and members"))
    imp.add_argument("file", help=_("the filled workbook (.xlsx) or one sheet as .csv"))
    imp.add_argument("--dry-run", action="store_true", help=_("check and count, write nothing"))
    imp.set_defaults(func=cmd_import)

    invite = sub.add_parser("invite", parents=[common], help=_("create a one-time invite link"))
    invite.add_argument("--org", required=True, help=_("organization code"))
    invite.add_argument(
        "--role",
        required=True,
        help=_("role: {roles}").format(roles=", ".join(role.value for role in Role)),
    )
    invite.add_argument("--name", default=None, help=_("display name of the invited person"))
    invite.add_argument("--days", type=int, default=None, help=_("days before it expires"))
    invite.set_defaults(func=cmd_invite)

    invites = sub.add_parser("invites", parents=[common], help=_("list the invites not used yet"))
    invites.set_defaults(func=cmd_invites)

    uninvite = sub.add_parser(
        "revoke-invite", parents=[common], help=_("cancel an invite not used yet, by id")
    )
    uninvite.add_argument("id", type=int, help=_("invite id (see: chibo admin invites)"))
    uninvite.set_defaults(func=cmd_revoke_invite)

    users = sub.add_parser("users", parents=[common], help=_("list active role assignments"))
    users.set_defaults(func=cmd_users)

    revoke = sub.add_parser("revoke", parents=[common], help=_("revoke a role assignment by id"))
    revoke.add_argument("id", type=int, help=_("assignment id (see: chibo admin users)"))
    revoke.set_defaults(func=cmd_revoke)


def _context(args: argparse.Namespace) -> tuple[Settings, Translator]:
    return load_settings(), cli_translator(args.lang)


def _fail(message: str) -> int:
    print(f"chibo: {message}", file=sys.stderr)
    return EXIT_USAGE


def _with_db(
    func: Callable[[argparse.Namespace, Settings, Translator, Database], int],
) -> Callable[[argparse.Namespace], int]:
    """Open the settings' database for ``func``; a missing or old one is one line (CliError)."""

    def run(args: argparse.Namespace) -> int:
        settings, tr = _context(args)
        with database(settings, tr) as db:
            return func(args, settings, tr, db)

    run.__doc__ = func.__doc__
    return run


def _org_types(settings: Settings, tr: Translator) -> list[tuple[str, str, str]] | None:
    """The database's organization types when it is ready, else None (the shipped list)."""
    try:
        with database(settings, tr) as db, db.transaction() as session:
            return [
                (t.code, t.name_vi, t.name_en)
                for t in session.scalars(select(OrgType).order_by(OrgType.sort, OrgType.code))
            ] or None
    except CliError:
        return None


def cmd_template(args: argparse.Namespace) -> int:
    """Write the import workbook (the database, when there is one, only lends its types)."""
    # openpyxl loads only for this command, not at every start of `chibo` (`chibo run` too).
    from bot.workbook import write_template

    settings, tr = _context(args)
    _ = tr.gettext
    out = Path(args.out)
    if out.exists() and not args.force:
        return _fail(
            _("{path} already exists; choose another --out or add --force").format(path=out)
        )
    write_template(out, org_types=_org_types(settings, tr))
    print(_("Wrote the import workbook: {path}").format(path=out))
    print(
        _("Fill in the sheets ToChuc and DangVien, then run: chibo admin import {path}").format(
            path=out
        )
    )
    return 0


@_with_db
def cmd_import(args: argparse.Namespace, settings: Settings, tr: Translator, db: Database) -> int:
    """Validate the whole file, then apply it in one transaction (or only count: --dry-run)."""
    # The importer reads workbooks with openpyxl: loaded for this command only.
    from storage.importer import apply, parse_workbook, validate

    _ = tr.gettext
    try:
        batch = parse_workbook(args.file)
    except ChiboError as exc:
        raise CliError(
            _("{reason}; nothing was written.").format(reason=_(exc.message).format(**exc.params)),
            EXIT_INVALID,
        ) from exc
    clock = SystemClock()
    with db.sessions() as session:
        session.begin()
        try:
            errors = validate(session, batch, today=local_today(clock, settings.tz))
            if errors:
                session.rollback()
                for error in errors:
                    print(error.render(tr.locale))
                print(
                    tr.ngettext(
                        "{n} error in {file}; nothing was written.",
                        "{n} errors in {file}; nothing was written.",
                        len(errors),
                    ).format(n=len(errors), file=batch.source)
                )
                return EXIT_INVALID
            result = apply(session, batch, actor=ACTOR, now=clock.now())
            if args.dry_run:
                session.rollback()
            else:
                session.commit()
        except BaseException:
            session.rollback()
            raise
    for warning in batch.warnings:
        print(warning.render(tr.locale))
    params = {
        "file": batch.source,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
    }
    if args.dry_run:
        print(
            _(
                "Dry run of {file}: the file is valid. It would create {created}, update "
                "{updated} and leave {unchanged} unchanged. Nothing was written."
            ).format(**params)
        )
    else:
        print(
            _(
                "Imported {file}: {created} created, {updated} updated, {unchanged} unchanged."
            ).format(**params)
        )
    return 0


@_with_db
def cmd_invite(args: argparse.Namespace, settings: Settings, tr: Translator, db: Database) -> int:
    """Create a one-time invite for a role in an organization and print its link."""
    _ = tr.gettext
    try:
        role = Role(args.role.strip().lower())
    except ValueError:
        return _fail(
            _("unknown role '{role}'; use one of: {roles}").format(
                role=args.role, roles=", ".join(r.value for r in Role)
            )
        )
    days = settings.invite_days if args.days is None else args.days
    if not 1 <= days <= 365:
        return _fail(_("--days must be between 1 and 365").format())
    clock = SystemClock()
    with db.transaction() as session:
        org = by_code(session, args.org)
        if org is None:
            return _fail(_("unknown organization code: {code}").format(code=args.org.strip()))
        invite = create_invite(
            session,
            org=org,
            role=role,
            actor=ACTOR,
            now=clock.now(),
            days=days,
            display_name=args.name,
        )
        code, org_code, org_name, expires = invite.code, org.code, org.name, invite.expires_at
        invite_id = invite.id
    expiry = expires.astimezone(settings.tz)
    print(
        _("Invite {id} for {role} of {org} ({code}), valid until {time} {date}.").format(
            id=invite_id,
            role=_(ROLE_NAMES[role]),
            org=org_name,
            code=org_code,
            time=expiry.strftime("%H:%M"),
            date=tr.date(expiry),
        )
    )
    username = settings.bot_username.strip().lstrip("@")
    if username:
        print(f"https://t.me/{username}?start={code}")
    else:
        print(
            _(
                "For a clickable link, set CHIBO_BOT_USERNAME to the bot's username (without "
                "@, as @BotFather shows it; see 'Running it for real' in the README) and run "
                "this command again. Meanwhile the person can send the bot this message:"
            )
        )
        print(f"/start {code}")
    return 0


@_with_db
def cmd_invites(args: argparse.Namespace, settings: Settings, tr: Translator, db: Database) -> int:
    """List the invites that can still be redeemed."""
    _ = tr.gettext
    clock = SystemClock()
    with db.transaction() as session:
        rows = list_pending_invites(session, now=clock.now())
        record(session, actor=ACTOR, at=clock.now(), action="list", entity="invites")
    if not rows:
        print(_("No invite is waiting to be used."))
        return 0
    table = [
        [
            str(r.invite_id),
            _(ROLE_NAMES[r.role]),
            r.org_code,
            r.display_name or "—",
            tr.date(r.created_at.astimezone(settings.tz)),
            tr.date(r.expires_at.astimezone(settings.tz)),
        ]
        for r in rows
    ]
    headers = [_("ID"), _("Role"), _("Org code"), _("Person"), _("Created"), _("Expires")]
    for line in _table(headers, table):
        print(line)
    print(_("Cancel one with: chibo admin revoke-invite ID"))
    return 0


@_with_db
def cmd_revoke_invite(
    args: argparse.Namespace, settings: Settings, tr: Translator, db: Database
) -> int:
    """Cancel a pending invite: its link stops working at once."""
    _ = tr.gettext
    try:
        with db.transaction() as session:
            row = revoke_invite(session, invite_id=args.id, actor=ACTOR, now=SystemClock().now())
    except NotFound:
        return _fail(_("no pending invite with id {id}").format(id=args.id))
    print(
        _("Cancelled invite {id} ({role} of {code}); its link no longer works.").format(
            id=row.invite_id, role=_(ROLE_NAMES[row.role]), code=row.org_code
        )
    )
    return 0


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return lines


@_with_db
def cmd_users(args: argparse.Namespace, settings: Settings, tr: Translator, db: Database) -> int:
    """List every active role assignment."""
    _ = tr.gettext
    clock = SystemClock()
    with db.transaction() as session:
        roles = list_roles(session)
        # Reading a list of people is audited (DOMAIN.md, personal data).
        record(session, actor=ACTOR, at=clock.now(), action="list", entity="role_assignments")
    if not roles:
        print(_("No active role assignments."))
        return 0
    rows = [
        [
            str(r.assignment_id),
            r.person,
            _("yes") if r.telegram_linked else _("no"),
            _(ROLE_NAMES[r.role]),
            r.org_code,
            r.org_name,
            tr.date(r.granted_at.astimezone(settings.tz)),
        ]
        for r in roles
    ]
    headers = [
        _("ID"),
        _("Person"),
        _("Linked"),
        _("Role"),
        _("Org code"),
        _("Organization"),
        _("Granted"),
    ]
    for line in _table(headers, rows):
        print(line)
    return 0


@_with_db
def cmd_revoke(args: argparse.Namespace, settings: Settings, tr: Translator, db: Database) -> int:
    """Revoke one role assignment by its id (the row is kept for the audit)."""
    _ = tr.gettext
    clock = SystemClock()
    try:
        with db.transaction() as session:
            row = revoke_role(session, assignment_id=args.id, actor=ACTOR, now=clock.now())
    except NotFound:
        return _fail(_("no active role assignment with id {id}").format(id=args.id))
    print(
        _("Revoked assignment {id}: {role} of {person} in {org} ({code}).").format(
            id=row.assignment_id,
            role=_(ROLE_NAMES[row.role]),
            person=row.person,
            org=row.org_name,
            code=row.org_code,
        )
    )
    return 0
