"""Every list screen fits Telegram at any size of Khối: the 10× Khối (600 party committees with
3 cells each, 1,200 grassroots cells: 1,800 grassroots organizations, 3,000 cells) gets every
/summary screen and the /meetings cell list as pages of at most 4,096 characters and 100
buttons, and paging reaches every item."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import insert, select

from domain.i18n import translator
from domain.rules.periods import Period, month_of, parse_period
from handlers import summary as screens
from handlers.base import Env
from handlers.meetings import listing as meetings_handlers
from services import scheduler as sch
from services.context import AppContext
from storage import meetings as m
from storage import obligations as ob
from storage import summary as store
from storage.models import (
    Candidate,
    Member,
    MemberStatus,
    Organization,
    OrgKind,
    Role,
    RoleAssignment,
)
from storage.report_kinds import KINDS
from tests.auxil import botkit

MAX_TEXT = 4096
MAX_BUTTONS = 100
SCALE = 10
TYPES = ["hanh_chinh", "su_nghiep", "dn_nha_nuoc", "dn_tu_nhan"]


def grow_khoi(db, top_id: int, now, scale: int = SCALE) -> int:
    """Add the bench's Khối shape under ``top_id`` at ``scale`` (one member per cell, no
    records: every cell is then on every "missing" list). Returns the number of cells."""
    orgs, members = [], []
    ids = iter(range(100_000, 1_000_000))

    def org(code: str, name: str, kind: OrgKind, parent: int, org_type: str) -> int:
        oid = next(ids)
        orgs.append(
            {
                "id": oid,
                "code": code,
                "name": name,
                "name_folded": name.lower(),
                "kind": kind,
                "org_type": org_type,
                "parent_id": parent,
                "active_from": date(2020, 1, 1),
                "usual_meeting_day": 10,
                "created_at": now,
                "updated_at": now,
            }
        )
        return oid

    cells = []
    for c in range(60 * scale):
        t = TYPES[c % len(TYPES)]
        committee = org(f"DB{c:05d}", f"Đảng bộ số {c} tỉnh", OrgKind.COMMITTEE, top_id, t)
        cells += [
            org(f"CB{c:05d}-{k}", f"Chi bộ {k} Đảng bộ {c}", OrgKind.CELL, committee, t)
            for k in range(3)
        ]
    for g in range(120 * scale):
        t = TYPES[(g * 7) % len(TYPES)]
        cells.append(
            org(f"CBCS{g:05d}", f"Chi bộ cơ sở số {g}", OrgKind.GRASSROOTS_CELL, top_id, t)
        )
    for cell in cells:
        name = f"Đảng viên {cell}"
        members.append(
            {
                "code": f"DV{cell}",
                "org_id": cell,
                "full_name": name,
                "name_folded": name.lower(),
                "status": MemberStatus.FULL,
                "created_at": now,
                "updated_at": now,
            }
        )
    with db.transaction() as session:
        session.execute(insert(Organization), orgs)
        session.execute(insert(Member), members)
    return len(cells)


STAGES = ["sympathizer", "class_done", "mentors", "cell_resolution", "probation"]


def grow_candidates(db, now) -> int:
    """Two candidates with a long name in every cell of the grown Khối, at various stages and
    priority groups. Returns how many."""
    with db.transaction() as session:
        cells = session.scalars(
            select(Organization.id).where(
                Organization.kind.in_([OrgKind.CELL, OrgKind.GRASSROOTS_CELL])
            )
        ).all()
    rows = []
    for i, cell in enumerate(cells):
        for k in range(2):
            name = f"Nguyễn Thị Thanh Hương Mỹ Dung Kiều Oanh số {cell}-{k}"
            rows.append(
                {
                    "code": f"UV{cell}-{k}",
                    "org_id": cell,
                    "full_name": name,
                    "name_folded": name.lower(),
                    "stage": STAGES[(i + k) % len(STAGES)],
                    "stage_since": now.date(),
                    "priority_groups": ["women", "khmer", "youth_union", "worker"][: (i + k) % 5],
                    "created_at": now,
                    "updated_at": now,
                }
            )
    with db.transaction() as session:
        session.execute(insert(Candidate), rows)
    return len(rows)


def fits(text: str, rows) -> None:
    assert len(text) <= MAX_TEXT, len(text)
    assert sum(len(r) for r in rows) <= MAX_BUTTONS
    assert all(len(d.encode()) <= 64 for r in rows for _label, d in r)


def env_of(bot) -> Env:
    app = AppContext(settings=botkit.test_settings(), db=bot.db, clock=bot.clock)
    return Env(app=app, t=translator("vi"), who=None, user_id=0, chat_id=0)


def page_of(data: str) -> int:
    return int(data.rsplit(":", 1)[1])


def walk(first: tuple[str, list], screen) -> list[tuple[str, list]]:
    """Follow the › button from the first page to the last."""
    pages = [first]
    while True:
        nxt = [d for row in pages[-1][1] for label, d in row if label == "›"]
        if not nxt:
            return pages
        pages.append(screen(page_of(nxt[0])))


async def test_every_summary_screen_fits_at_ten_times_the_khoi(bot) -> None:
    """The leader's whole-Khối summary: the main screen, every list, both breakdowns, page by
    page; the breakdown by committee once overflowed (10,662 characters, 181 buttons at 1×)."""
    n_cells = grow_khoi(bot.db, bot.khoi.top_id, bot.clock.now())
    env = env_of(bot)
    today = env.today()
    with bot.db.transaction() as session:
        scope = store.scope_under(session, {bot.khoi.top_id}, on=today)
        s = store.build_summary(
            session,
            scope=scope,
            subject=store.Subject(),
            period=month_of(today),
            today=today,
            kinds=KINDS.values(),
            now=bot.clock.now(),
        )
    assert len(s.cells) == n_cells + 4 and len(s.by_committee) >= 1_800

    fits(screens.render.main_text(s, env.t), screens._main_rows(env, s))
    fits(screens.render.explain_text(s, env.t), [])

    for view, groups in (("bc", s.by_committee), ("bt", s.by_type)):
        pages = walk(
            screens.breakdown_screen(env, view, s, 0),
            lambda p, view=view: screens.breakdown_screen(env, view, s, p),
        )
        offered = set()
        for text, rows in pages:
            fits(text, rows)
            offered |= {d for row in rows for label, d in row if label not in "‹›"}
        wanted = {
            screens.data(
                "m",
                s.period,
                store.Subject("type", type_code=g.key)
                if view == "bt"
                else store.Subject("org", org_id=int(g.key)),
            )
            for g in groups
            if g.cell_ids and g.key
        }
        assert wanted <= offered, f"{view}: {len(wanted - offered)} groups never offered"
        assert len(pages) == -(-len(groups) // screens.GROUPS_PER_PAGE)

    for view in screens.render.LISTS:
        first = screens.render.list_page(s, env.t, view, 0)
        total = re.search(r"tổng số ([\d.]+)", first.text)
        n = int(total.group(1).replace(".", "")) if total else None
        assert first.pages == (-(-n // screens.render.PAGE_SIZE) if n else 1), view
        # The first, second and last pages fit, and each one's › opens the next.
        for page in sorted({0, 1, first.pages - 1} & set(range(first.pages))):
            text, rows = screens.list_screen(env, view, s, page)
            fits(text, rows)
            nxt = [page_of(d) for row in rows for label, d in row if label == "›"]
            assert nxt == ([page + 1] if page + 1 < first.pages else []), view
    # Every cell is reached by paging through the list of cells.
    cells_pages = walk(
        screens.list_screen(env, "cells", s, 0), lambda p: screens.list_screen(env, "cells", s, p)
    )
    for text, rows in cells_pages:
        fits(text, rows)
    offered = {d for _t, rows in cells_pages for row in rows for label, d in row if ":o" in d}
    assert len(offered) == len(s.cells)


async def test_the_meetings_cell_list_pages_through_every_cell(bot) -> None:
    """A leader's /meetings at 10×: 20 cells a page, every cell reachable."""
    grow_khoi(bot.db, bot.khoi.top_id, bot.clock.now())
    env = env_of(bot)
    with bot.db.transaction() as session:
        cells = m.readable_cells(session, person_id=bot.khoi.users["lanh_dao"].person_id)
    assert len(cells) > 3_000
    seen = set()
    page = 0
    while True:
        text, rows = meetings_handlers._cells_screen(env, cells, page)
        fits(text, rows)
        seen |= {d for row in rows for _label, d in row if d.startswith("mtg:list:")}
        nxt = [d for row in rows for label, d in row if "▶" in label]
        if not nxt:
            break
        page = page_of(nxt[0])
    assert len(seen) == len(cells)


async def test_a_leader_pages_the_committee_breakdown_in_the_bot(bot) -> None:
    """Through the bot: "By committee" at 10× shows a first page that fits, and › moves on."""
    grow_khoi(bot.db, bot.khoi.top_id, bot.clock.now())
    await bot.send("lanh_dao", "/summary")
    for label in ("By committee", "›"):
        [out] = await bot.press("lanh_dao", "TCCS đảng" if label == "By committee" else "›")
        assert len(out.text) <= MAX_TEXT and len(out.buttons()) <= MAX_BUTTONS
    assert "2/" in out.text.rsplit("\n", 1)[-1]


async def test_the_candidates_funnel_screens_fit_and_reach_every_group_at_ten_times(bot) -> None:
    """The funnel per organization type, per grassroots party organization and per cell, and
    every name behind it, with 6,000 candidates in the 10× Khối: every page fits, paging
    reaches every group (a button to its names) and every name."""
    grow_khoi(bot.db, bot.khoi.top_id, bot.clock.now())
    n = grow_candidates(bot.db, bot.clock.now())
    env = env_of(bot)
    today = env.today()
    with bot.db.transaction() as session:
        scope = store.scope_under(session, {bot.khoi.top_id}, on=today)
        s = store.build_summary(
            session,
            scope=scope,
            subject=store.Subject(),
            period=month_of(today),
            today=today,
            kinds=KINDS.values(),
            now=bot.clock.now(),
        )
    assert s.pipeline is not None
    text, rows = screens.candidates_screen(env, s)
    fits(text, rows)
    views = {d.split(":")[1] for row in rows for _l, d in row}
    assert {"cbt", "cbg", "cbc", "cnl"} <= views
    for view, groups in (
        ("cbt", s.pipeline.by_type),
        ("cbg", s.pipeline.by_committee),
        ("cbc", s.pipeline.by_cell),
    ):
        pages = walk(
            screens.funnel_screen(env, view, s, 0),
            lambda p, view=view: screens.funnel_screen(env, view, s, p),
        )
        assert len(pages) == -(-len(groups) // 20)
        assert len(pages) > 1 or view == "cbt"  # 4 types fit one page
        offered = set()
        for text, rows in pages:
            fits(text, rows)
            offered |= {d for row in rows for _l, d in row if d.startswith("sum:cnl:")}
        assert len(offered) == len([g for g in groups if g != "-"]), view
    names = walk(screens.names_screen(env, s, 0), lambda p: screens.names_screen(env, s, p))
    assert len(names) == -(-n // 20)
    for text, rows in names:
        fits(text, rows)
    assert sum(text.count("\n• ") for text, _rows in names) == n


async def test_a_leader_opens_a_committees_candidates_in_the_bot(bot) -> None:
    """Through the bot: 🌱 Candidates → by committee → › → one committee's names."""
    grow_khoi(bot.db, bot.khoi.top_id, bot.clock.now())
    grow_candidates(bot.db, bot.clock.now())
    await bot.send("lanh_dao", "/summary")
    await bot.press("lanh_dao", "Quần chúng")
    await bot.press("lanh_dao", "TCCS đảng")
    [out] = await bot.press("lanh_dao", "›")
    assert len(out.text) <= MAX_TEXT and len(out.buttons()) <= MAX_BUTTONS
    assert "Trang 2/" in out.text
    first = next(label for label, d in out.buttons() if d.startswith("sum:cnl:"))
    [names] = await bot.press("lanh_dao", first)
    assert "Nguyễn Thị Thanh Hương" in names.text and "⬅" in " ".join(
        label for label, _d in names.buttons()
    )


def test_period_keys_parse() -> None:
    """The paging data of every period kind stays a valid summary button."""
    for key in ("2026-11", "2026-Q4", "2026"):
        p = parse_period(key)
        assert isinstance(p, Period)
        assert re.match(screens.PATTERN, screens.data("bc", p, store.Subject(), 999))


def test_a_long_deadlines_list_pages_through_every_item() -> None:
    """/deadlines of someone reminded for 600 cells (a committee secretary covering cells
    without a secretary): pages that fit, reaching every cell; once it was cut short."""
    t = translator("vi")
    today = date(2026, 11, 16)
    owed = sch.Owed()
    for i in range(600):
        inst = ob.Instance("regular_meeting", "2026-11", 100_000 + i, date(2026, 11, 30))
        item = sch.OwedItem(
            inst, "Sinh hoạt thường kỳ", "Regular meeting", f"Chi bộ {i:04d}", True
        )
        (owed.overdue if i % 3 == 0 else owed.upcoming).append(item)
    first = sch.render_owed(owed, t, today=today)
    pages = walk(first, lambda p: sch.render_owed(owed, t, today=today, page=p))
    assert len(pages) > 1
    shown = set()
    for text, rows in pages:
        fits(text, rows)
        shown |= set(re.findall(r"Chi bộ (\d{4})", text))
    assert len(shown) == 600


async def test_deadlines_pages_in_the_bot(bot) -> None:
    """Through the bot: › on a long /deadlines shows the next page."""
    grow_khoi(bot.db, bot.khoi.top_id, bot.clock.now(), scale=1)
    with bot.db.transaction() as session:
        committees = session.scalars(
            select(Organization.id).where(Organization.kind == OrgKind.COMMITTEE)
        ).all()
        for org_id in committees:
            session.add(
                RoleAssignment(
                    person_id=bot.khoi.users["bt_syt"].person_id,
                    org_id=org_id,
                    role=Role.GRASSROOTS_SECRETARY,
                    granted_at=bot.clock.now(),
                    granted_by="test",
                )
            )
    [first] = await bot.send("bt_syt", "/deadlines")
    assert len(first.text) <= MAX_TEXT and "›" in [label for label, _d in first.buttons()]
    [second] = await bot.press("bt_syt", "›")
    assert second.message_id == first.message_id and "Trang 2/" in second.text
