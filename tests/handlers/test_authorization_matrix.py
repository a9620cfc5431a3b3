"""The authorization matrix: every command and every button family the app registers, used by
every role and by a stranger, honestly and with forged data.

The commands and callback patterns are read from the built Application, so a new command or
button family is covered without touching this file. The story:

1. Every actor (one per role, a second Khối's secretary, a stranger) types every command, bare
   and with a 40-digit argument, and presses every button the replies show (one level deep).
   Every callback data seen is kept, with who saw it.
2. Every actor then presses data they were never shown: every other actor's data (other cells'
   ids, other people's draft ids, the other Khối), samples of every registered pattern with
   ids replaced by foreign cells' ids and by 40-digit numbers, truncated and oversized data.

After every single update: the callback was answered exactly once; no reply, edit, caption,
button, alert or document names an organization or a member outside the actor's scope; nothing
was logged above a warning, no traceback, and at most one warning line. After every command
with its buttons, and every 25 forged presses: no record outside the cells the actor writes
changed.
"""

from __future__ import annotations

import hashlib
import logging
import re
import re._constants as sre_c
import re._parser as sre_parse
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select
from telegram.ext import CallbackQueryHandler, CommandHandler

from domain.access import COMMAND_HELP
from domain.text import fold
from storage.models import (
    Base,
    Candidate,
    Meeting,
    Member,
    MemberStatus,
    Organization,
    OrgKind,
    Person,
    Role,
    RoleAssignment,
)

BIG = "9" * 40
#: Buttons pressed per command reply, and forged data per pattern per actor (the actors take
#: turns, so together they press every forgery).
PRESSES_PER_SCREEN = 8
FORGED_PER_PATTERN = 2
STRANGER_ID = 3001
#: Tables whose rows a press may change for the presser alone (their own drafts, language,
#: reminder settings, audit of their reads, messages queued to them), and the cache's counter,
#: which any write to people raises (a language chosen).
PERSONAL_TABLES = {
    "audit_log",
    "drafts",
    "people",
    "outbox",
    "snoozes",
    "notice_replies",
    "cache_generation",
}


# --- The cast ------------------------------------------------------------------------------------


@dataclass
class Actor:
    """Someone who uses the bot: a role holder or a stranger."""

    key: str
    uid: int
    roles: tuple[Role, ...]
    person_id: int | None = None
    writable: set[int] = field(default_factory=set)
    foreign: list[str] = field(default_factory=list)


def _add_person(session, name: str, uid: int, grants: list[tuple[Role, int]], now) -> int:
    person = Person(display_name=name, telegram_user_id=uid, created_at=now, started_at=now)
    session.add(person)
    session.flush()
    for role, org_id in grants:
        session.add(
            RoleAssignment(
                person_id=person.id, org_id=org_id, role=role, granted_at=now, granted_by="test"
            )
        )
    return person.id


def _other_khoi(session, now) -> dict[str, int]:
    """A second top organization with one cell, outside everyone's scope but its secretary's."""
    ids: dict[str, int] = {}
    for code, name, kind, parent in (
        ("DUKXL", "Đảng ủy Khối Xa Lạ", OrgKind.TOP, None),
        ("CBXL", "Chi bộ Kho Bạc Xa Lạ", OrgKind.GRASSROOTS_CELL, "DUKXL"),
    ):
        org = Organization(
            code=code,
            name=name,
            name_folded=fold(name),
            kind=kind,
            org_type="hanh_chinh" if parent else None,
            parent_id=ids.get(parent) if parent else None,
            active_from=date(2020, 1, 1),
            usual_meeting_day=5 if parent else None,
            created_at=now,
            updated_at=now,
        )
        session.add(org)
        session.flush()
        ids[code] = org.id
    for i, given in enumerate(["Ẩn", "Bí", "Kín", "Giấu", "Mật", "Lặng"]):
        full = f"Xa Lạ Thị {given}"
        session.add(
            Member(
                code=f"CBXL-{i + 1:03d}",
                org_id=ids["CBXL"],
                full_name=full,
                name_folded=fold(full),
                status=MemberStatus.FULL,
                created_at=now,
                updated_at=now,
            )
        )
    return ids


def cast(bot) -> list[Actor]:
    """One actor per role (and the two extra kinds), with the names each must never see."""
    now = bot.clock.now()
    orgs = bot.khoi.orgs
    with bot.db.transaction() as session:
        orgs.update(_other_khoi(session, now))
        extra = {
            "pbt_dien": ("Lâm Văn Phó", 2002, [(Role.DEPUTY, orgs["CBDIEN"])]),
            "cuv_mekong": ("Châu Thị Ủy", 2003, [(Role.COMMITTEE_MEMBER, orgs["CBMEKONG"])]),
            "theo_doi": ("Tô Văn Dõi", 2004, [(Role.FOLLOWER, orgs["CBVP-SYT"])]),
            "tuyen_giao": ("Dương Thị Giáo", 2005, [(Role.PROPAGANDA, orgs["DUK"])]),
            "quan_tri": ("Ngô Văn Trị", 2006, [(Role.ADMIN, orgs["DUK"])]),
            "bt_xl": ("Lý Văn Lạ", 2007, [(Role.SECRETARY, orgs["CBXL"])]),
        }
        for name, uid, grants in extra.values():
            _add_person(session, name, uid, grants, now)
    for uid in [2002, 2003, 2004, 2005, 2006, 2007, STRANGER_ID]:
        bot.fake.add_user(uid, first_name="Khách", language_code="vi")
    keys = ["lanh_dao", "kiem_tra", "to_chuc", "tuyen_giao", "quan_tri", "bt_syt", "bt_bv"]
    keys += ["pbt_dien", "cuv_mekong", "theo_doi", "bt_xl"]
    uids = {k: u.telegram_user_id for k, u in bot.khoi.users.items()}
    uids.update({k: v[1] for k, v in extra.items()})
    actors = []
    with bot.db.transaction() as session:
        tree = {o.id: o for o in session.scalars(select(Organization))}
        members = list(session.execute(select(Member.full_name, Member.org_id)))
        for key in keys:
            person = session.scalar(select(Person).where(Person.telegram_user_id == uids[key]))
            held = list(
                session.execute(
                    select(RoleAssignment.role, RoleAssignment.org_id).where(
                        RoleAssignment.person_id == person.id
                    )
                )
            )
            actors.append(
                Actor(
                    key,
                    uids[key],
                    tuple(r for r, _o in held),
                    person.id,
                    {o for r, o in held if r in (Role.SECRETARY, Role.DEPUTY)},
                    _foreign(tree, members, {o for _r, o in held}),
                )
            )
    actors.append(Actor("stranger", STRANGER_ID, (), foreign=_foreign(tree, members, set())))
    return actors


def _foreign(tree: dict, members: list, roots: set[int]) -> list[str]:
    """Names of organizations and members the holder of roles at ``roots`` may not see."""
    below = set(roots)
    changed = True
    while changed:
        grown = below | {o.id for o in tree.values() if o.parent_id in below}
        changed, below = grown != below, grown
    above = set()
    for root in roots:
        node = tree[root]
        while node.parent_id is not None:
            above.add(node.parent_id)
            node = tree[node.parent_id]
    visible = [tree[o].name for o in below | above] + [n for n, o in members if o in below]
    hidden = [o.name for o in tree.values() if o.id not in below | above]
    hidden += [n for n, o in members if o not in below]
    return sorted({n for n in hidden if not any(n in v for v in visible)})


# --- The database outside the actor's cells ------------------------------------------------------


def protected_state(bot, writable: set[int]) -> str:
    """A digest of every record except the actor's personal rows and their own cells' records."""
    digest = hashlib.sha256()
    with bot.db.transaction() as session:
        owner = {
            "meeting_id": dict(session.execute(select(Meeting.id, Meeting.org_id)).all()),
            "member_id": dict(session.execute(select(Member.id, Member.org_id)).all()),
            "candidate_id": dict(session.execute(select(Candidate.id, Candidate.org_id)).all()),
        }
        for table in Base.metadata.sorted_tables:
            if table.name in PERSONAL_TABLES:
                continue
            cols = table.c.keys()
            for row in session.execute(select(table).order_by(*table.primary_key.columns)):
                values = row._mapping
                org = values.get("org_id") if "org_id" in cols else None
                for col, ids in owner.items():
                    if org is None and col in cols:
                        org = ids.get(values[col])
                if org is not None and org in writable:
                    continue
                digest.update(repr((table.name, tuple(row))).encode())
    return digest.hexdigest()


# --- What the app registers ----------------------------------------------------------------------


def registered(app) -> tuple[list[list[str]], list[str | None]]:
    """Every command handler's names (canonical first) and every callback pattern (None: the
    catch-all) the app registers."""
    commands: list[list[str]] = []
    patterns: list[str | None] = []
    for group in sorted(app.handlers):
        for handler in app.handlers[group]:
            if isinstance(handler, CommandHandler):
                names = sorted(handler.commands, key=lambda n: (not n.isascii(), n))
                commands.append(sorted(names, key=lambda n: n not in COMMAND_HELP))
            elif isinstance(handler, CallbackQueryHandler):
                p = handler.pattern
                patterns.append(p.pattern if isinstance(p, re.Pattern) else p)
    return commands, patterns


def samples(pattern: str, limit: int = 6) -> list[str]:
    """A few strings matching ``pattern``, one per alternative where it has some."""

    def seq(items) -> list[str]:
        out = [""]
        for op, av in items:
            out = [a + b for a in out for b in one(op, av)][:limit]
        return out

    def one(op, av) -> list[str]:
        if op is sre_c.LITERAL:
            return [chr(av)]
        if op is sre_c.NOT_LITERAL:
            return ["x" if chr(av) != "x" else "y"]
        if op is sre_c.ANY:
            return ["x"]
        if op is sre_c.IN:
            for kind, value in av:
                if kind is sre_c.LITERAL:
                    return [chr(value)]
                if kind is sre_c.RANGE:
                    return [chr(value[0])]
                if kind is sre_c.CATEGORY:
                    return ["1" if value is sre_c.CATEGORY_DIGIT else "a"]
            return ["x"]
        if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT):
            lo, _hi, body = av
            inner = seq(body)
            out = [i * max(lo, 1) for i in inner]
            return ([""] if lo == 0 else []) + out
        if op is sre_c.SUBPATTERN:
            return seq(av[-1])
        if op is sre_c.BRANCH:
            return [s for branch in av[1] for s in seq(branch)][:limit]
        if op is sre_c.CATEGORY:
            return ["1" if av is sre_c.CATEGORY_DIGIT else "a"]
        return [""]

    found = [s for s in seq(sre_parse.parse(pattern)) if re.match(pattern, s)]
    return list(dict.fromkeys(found))


def forgeries(pattern: str, foreign_ids: list[int]) -> list[str]:
    """Data no honest button carries: the pattern's samples with every number replaced by a
    foreign cell's id, 0 or a 40-digit number, truncated, or grown past 64 bytes."""
    out: list[str] = []
    for sample in samples(pattern)[:3]:
        out += [re.sub(r"\d+", value, sample) for value in [*map(str, foreign_ids), BIG, "0"]]
        out += [sample, sample[: len(sample) // 2], sample + ":" + BIG + ":" + BIG]
    return list(dict.fromkeys(out))


#: Data of no family at all.
JUNK = ["", ":", "x" * 64, "sum:" + BIG, "mtg:" + "9" * 61, "ü" * 40, "rpt:v:1:x:2026:" + BIG]


def shape(data: str) -> str:
    """Data with its numbers blanked: the button family and its arity."""
    return re.sub(r"\d+", "#", data)


def rotate(items: list[str], i: int, n: int) -> list[str]:
    """The ``n`` items actor number ``i`` tries, so that the actors together try them all."""
    if len(items) <= n:
        return items
    return [items[(i * n + k) % len(items)] for k in range(n)]


def mutations(data: str) -> list[str]:
    """Malformed and oversized variants of honest data."""
    return [data + ":" + BIG, re.sub(r"\d+", BIG, data, count=1), data.rsplit(":", 1)[0] + ":"]


def document_text(name: str, content: bytes) -> str:
    """The words of a Word or Excel document, to look for foreign names in."""
    if name.endswith(".docx"):
        doc = Document(BytesIO(content))
        words = [p.text for p in doc.paragraphs]
        words += [c.text for t in doc.tables for row in t.rows for c in row.cells]
        return "\n".join(words)
    if name.endswith(".xlsx"):
        book = load_workbook(BytesIO(content), read_only=True)
        return "\n".join(
            str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
        )
    return ""


# --- Pressing, with every check ------------------------------------------------------------------


@dataclass
class Matrix:
    bot: object
    caplog: pytest.LogCaptureFixture
    presses: int = 0
    commands: int = 0
    seen: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    problems: list[str] = field(default_factory=list)
    batch: list[str] = field(default_factory=list)

    def records(self, actor: Actor) -> str:
        """Start a batch of updates whose effect on the records is checked together."""
        self.batch = []
        return protected_state(self.bot, actor.writable)

    def same_records(self, actor: Actor, before: str) -> None:
        """Check that the batch changed no record outside the actor's own cells."""
        if protected_state(self.bot, actor.writable) != before:
            self.problems.append(f"{actor.key}: one of {self.batch} changed foreign records")

    def _visible(self, actor: Actor, mark: int, answers: int) -> list[str]:
        fake = self.bot.fake
        texts = []
        for msg in fake.activity_since(mark, actor.uid):
            texts.append(msg.text or "")
            texts.append(msg.caption or "")
            if msg.document is not None:
                texts.append(msg.document.file_name or "")
                texts.append(document_text(msg.document.file_name or "", msg.document.content))
            for label, data in msg.buttons():
                texts.append(label)
                if data:
                    self.seen[actor.key].add(data)
        texts += [a.text or "" for a in fake.callback_answers[answers:]]
        return texts

    async def act(self, actor: Actor, what: str, run) -> None:
        """Run one update and check everything that must hold after it."""
        fake = self.bot.fake
        mark, answers, calls = fake.activity_mark(), len(fake.callback_answers), len(fake.calls)
        self.caplog.clear()
        errors = len(self.bot.driver.errors)
        pressed = await run()
        for exc in self.bot.driver.errors[errors:]:
            self.problems.append(f"{actor.key} {what!r}: raised {type(exc).__name__}: {exc}")
        texts = self._visible(actor, mark, answers)
        leaked = [n for n in actor.foreign if any(n in t for t in texts)]
        if leaked:
            self.problems.append(f"{actor.key} {what!r}: shows {leaked[:3]}")
        self.batch.append(what)
        if pressed:
            n = sum(1 for m, _p in fake.calls[calls:] if m == "answerCallbackQuery")
            if n != 1:
                self.problems.append(f"{actor.key} {what!r}: callback answered {n} times")
        loud = [r for r in self.caplog.records if r.levelno > logging.WARNING or r.exc_info]
        warnings = [r for r in self.caplog.records if r.levelno == logging.WARNING]
        if loud or len(warnings) > 1:
            self.problems.append(
                f"{actor.key} {what!r}: logged {[r.getMessage()[:80] for r in loud + warnings]}"
            )

    async def command(self, actor: Actor, text: str) -> None:
        self.commands += 1

        async def run() -> bool:
            await self.bot.driver.send(actor.uid, text)
            return False

        await self.act(actor, text, run)

    async def press(self, actor: Actor, data: str) -> None:
        """Press a button carrying ``data`` on the newest bot message of the actor's chat."""
        self.presses += 1
        fake = self.bot.fake
        anchor = next(
            (m for m in reversed(fake.bot_messages(actor.uid)) if not (m.deleted or m.has_media)),
            None,
        )
        if anchor is None:
            await self.bot.driver.send(actor.uid, "/help")
            anchor = fake.bot_messages(actor.uid)[-1]
        anchor.reply_markup = [[{"text": "▶", "callback_data": data}]]

        async def run() -> bool:
            await self.bot.driver.press_data(actor.uid, anchor.message_id, data)
            return True

        await self.act(actor, data, run)


async def test_every_role_every_command_every_button(bot, caplog) -> None:
    """No foreign name shown, no foreign record written, every callback answered once."""
    caplog.set_level(logging.INFO)
    actors = cast(bot)
    commands, patterns = registered(bot.app)
    assert ["meeting", "sinhhoat"] in commands and ["summary", "tonghop"] in commands
    assert None in patterns and len(patterns) > 40
    m = Matrix(bot, caplog)
    bot.driver.raise_errors = False

    # 1. Honest use: every command (and its aliases, and with a 40-digit argument), then the
    # buttons its reply shows, one level deep.
    for actor in actors:
        for names in commands:
            before = m.records(actor)
            for alias in names[1:]:
                await m.command(actor, f"/{alias}")
            await m.command(actor, f"/{names[0]} {BIG}")
            mark = bot.fake.activity_mark()
            await m.command(actor, f"/{names[0]}")
            shown = [
                d
                for msg in bot.fake.activity_since(mark, actor.uid)
                for _label, d in msg.buttons()
                if d
            ]
            for data in list(dict.fromkeys(shown))[:PRESSES_PER_SCREEN]:
                await m.press(actor, data)
            m.same_records(actor, before)
        await bot.driver.send(actor.uid, "/cancel")

    # 2. Forged use: every other actor's data (each family in every shape seen), forged samples
    # of every registered pattern, junk. Each actor tries a share; together they try them all.
    foreign_cells = [bot.khoi.orgs["CBXL"], bot.khoi.orgs["CBBV-DK"], bot.khoi.orgs["CBDIEN"]]
    forged = {p: forgeries(p, foreign_cells) for p in patterns if p is not None}
    honest = {key: sorted(data) for key, data in m.seen.items()}
    tried: set[str] = set()
    for i, actor in enumerate(actors):
        by_shape: dict[str, list[str]] = defaultdict(list)
        for key, data in honest.items():
            if key != actor.key:
                for d in data:
                    by_shape[shape(d)].append(d)
        replay = [rotate(sorted(set(ds)), i, 1)[0] for _s, ds in sorted(by_shape.items())]
        mine = [x for d in honest.get(actor.key, [])[:10] for x in mutations(d)]
        fakes = [d for p in sorted(forged) for d in rotate(forged[p], i, FORGED_PER_PATTERN)]
        presses = [*replay, *fakes, *mine, *JUNK]
        for start in range(0, len(presses), 25):
            before = m.records(actor)
            for data in presses[start : start + 25]:
                tried.add(data)
                await m.press(actor, data)
            m.same_records(actor, before)

    assert not bot.fake.unanswered_callback_queries()
    roles = {r for a in actors for r in a.roles}
    print(
        f"\nmatrix: {len(actors)} actors ({len(roles)} roles, a second Khối, a stranger) × "
        f"{sum(map(len, commands))} commands × {len(patterns)} callback patterns: "
        f"{m.commands} commands typed, {m.presses} buttons pressed, {len(tried)} distinct "
        f"forged or replayed data ({sum(map(len, forged.values()))} forged from patterns, "
        f"{len({d for ds in honest.values() for d in ds})} honest replayed across actors)"
    )
    assert not m.problems, "\n".join(m.problems[:40]) + f"\n({len(m.problems)} problems)"


async def test_a_forged_40_digit_id_is_one_warning_line(bot, caplog) -> None:
    """A button whose id has 40 digits (more than any database integer) is answered as stale
    and logged as one warning line naming the button family, not its ids; no traceback."""
    caplog.set_level(logging.INFO)
    uid = bot.uid("bt_bv")
    await bot.driver.send(uid, "/report")
    anchor = bot.fake.bot_messages(uid)[-1]
    for data in (f"rpt:v:{BIG}:quarterly:2026-Q4", f"mtg:list:{BIG}", f"rev:all:{BIG}"):
        anchor.reply_markup = [[{"text": "▶", "callback_data": data}]]
        caplog.clear()
        await bot.driver.press_data(uid, anchor.message_id, data)
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1 and warnings[0].exc_info is None, data
        line = warnings[0].getMessage()
        assert "refused button" in line and "StaleAction" in line and "99999" not in line
        assert bot.fake.callback_answers[-1].data == data
    assert not bot.fake.unanswered_callback_queries()
