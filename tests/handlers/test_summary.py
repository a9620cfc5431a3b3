"""Stories of /summary: a leader, a party committee secretary and a cell secretary read the
figures of their scope, drill down, page through lists and export; forged buttons are refused.

Figures are checked against the records the story inserted (counted by hand in the ledger of
:mod:`tests.storage.test_summary`), not against the code under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import func, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.errors import NotAllowed, NotInScope, StaleAction
from domain.i18n import translator
from storage.models import AuditLog, Member, Organization, OrgKind, RoleAssignment
from tests.storage.test_summary import ALL, Records, standard_records

VI = translator("vi")
OUT_OF_SCOPE = VI.gettext(NotInScope.message)
NOT_ALLOWED = VI.gettext(NotAllowed.message)
STALE = VI.gettext(StaleAction.message)


@pytest.fixture
def story(bot) -> Records:
    """The standard story's records in the bot's seeded Khối."""
    with bot.db.transaction() as session:
        return standard_records(session, bot.khoi.orgs)


def pct(present: int, required: int) -> str:
    """A rate as the bot writes it in Vietnamese."""
    return VI.percent(present / required)


def buttons(message) -> list[str]:
    return [label for label, _data in message.buttons()]


def answers(bot) -> list[str]:
    return [a.text or "" for a in bot.fake.callback_answers]


async def forge(bot, key: str, data: str):
    """The user's client presses a button whose data was tampered with: the newest bot
    message with buttons gets its first button rewritten, then is pressed by data."""
    uid = bot.uid(key)
    message = next(m for m in reversed(bot.fake.bot_messages(uid)) if m.reply_markup)
    message.reply_markup[0][0]["callback_data"] = data
    before = message.text
    out = await bot.driver.press_data(uid, message.message_id, data)
    return message, before, out


# --- the three scopes --------------------------------------------------------------------------


async def test_a_leader_sees_the_whole_khoi_for_the_current_month(bot, story: Records) -> None:
    out = await bot.send("lanh_dao", "/summary")
    text = out[-1].text
    assert "Tổng hợp tháng 11/2026" in text
    assert "Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh" in text
    assert "4 chi bộ" in text
    held = sum(story.regular_held(c, 2026, 11) for c in ALL)
    assert f"Sinh hoạt thường kỳ: {held}/4 chi bộ" in text
    p, r, _e, u = story.attendance(ALL, date(2026, 11, 1), date(2026, 11, 30))
    assert f"Tỷ lệ dự: {pct(p, r)} ({p}/{r})" in text
    assert f"Vắng không lý do: {u} lượt" in text
    assert "Vắng 3 tháng: 1 · vắng 2 tháng: 1" in text
    assert "Chuyên đề quý IV: 2/2 chi bộ" in text
    reviewed = sum(1 for x in story.reviews if x[3] == 11)
    assert f"Nhận xét: {reviewed}/60" in text
    assert "Biểu hiện suy thoái mới: 1" in text
    assert "Chưa theo dõi trên chibo" in text  # candidates: honest, no invented zeros
    assert "Chưa có mô hình học tập và làm theo Bác năm 2026: 2 chi bộ" in text
    labels = buttons(out[-1])
    assert any(label.startswith("🗓 Chưa SH (2)") for label in labels)
    assert "📥 Excel" in labels and "📈 Biểu đồ" in labels
    assert all(len(d.encode()) <= 64 for _l, d in out[-1].buttons() if d)


async def test_a_party_committee_secretary_sees_her_committee(bot, story: Records) -> None:
    out = await bot.send("bt_syt", "/tonghop")
    text = out[-1].text
    assert "Đảng bộ Sở Y tế" in text and "2 chi bộ" in text
    assert "Sinh hoạt thường kỳ: 1/2 chi bộ" in text
    cells = {"CBVP-SYT", "CBBV-DK"}
    p, r, _e, _u = story.attendance(cells, date(2026, 11, 1), date(2026, 11, 30))
    assert f"Tỷ lệ dự: {pct(p, r)} ({p}/{r})" in text
    out = await bot.press("bt_syt", "Chưa SH")
    assert "CBBV-DK" in out[-1].text
    assert "CBMEKONG" not in out[-1].text and "CBDIEN" not in out[-1].text


async def test_a_cell_secretary_sees_only_her_cell(bot, story: Records) -> None:
    out = await bot.send("bt_bv", "/summary")
    text = out[-1].text
    assert "Chi bộ Bệnh viện Đa khoa" in text and "1 chi bộ" in text
    assert "Sinh hoạt thường kỳ: 0/1 chi bộ" in text
    assert "Vắng 3 tháng: 1 · vắng 2 tháng: 0" in text
    labels = buttons(out[-1])
    assert "📅 Từng tháng" in labels and "🗂 Loại hình" not in labels
    out = await bot.press("bt_bv", "Vắng 3 tháng")
    assert "CBBV-DK" in out[-1].text and "tháng 01, 03, 10/2026" in out[-1].text
    with bot.db.transaction() as session:
        audited = session.scalar(
            select(func.count(AuditLog.id)).where(
                AuditLog.entity == "summary", AuditLog.action == "view_abs"
            )
        )
    assert audited == 1  # a list naming members was seen: audited


# --- periods -----------------------------------------------------------------------------------


async def test_quarter_and_year_count_cell_months_up_to_today(bot, story: Records) -> None:
    await bot.send("lanh_dao", "/summary")
    out = await bot.press("lanh_dao", "Quý")
    assert "Tổng hợp quý IV/2026" in out[-1].text
    held = sum(story.regular_held(c, 2026, m) for c in ALL for m in (10, 11))
    assert f"Sinh hoạt thường kỳ: {held}/8 (số chi bộ × số tháng)" in out[-1].text
    out = await bot.press("lanh_dao", "Năm")
    held = sum(story.regular_held(c, 2026, m) for c in ALL for m in range(1, 12))
    assert f"Sinh hoạt thường kỳ: {held}/44 (số chi bộ × số tháng)" in out[-1].text
    assert "Chuyên đề: 2/14 (số chi bộ × số quý)" in out[-1].text
    out = await bot.press("lanh_dao", "« năm 2025")
    assert "Tổng hợp năm 2025" in out[-1].text
    assert "Kỳ này chưa có số liệu nào được ghi nhận." in out[-1].text
    assert "Sinh hoạt thường kỳ: 0/48 (số chi bộ × số tháng)" in out[-1].text
    out = await bot.press("lanh_dao", "Tháng")
    assert "Tổng hợp tháng 12/2025" in out[-1].text
    out = await bot.press("lanh_dao", "tháng 01/2026 »")
    assert "Tổng hợp tháng 01/2026" in out[-1].text


async def test_a_future_period_is_refused(bot, story: Records) -> None:
    await bot.send("lanh_dao", "/summary")
    assert not any("»" in label for label in buttons(bot.fake.last_message(bot.uid("lanh_dao"))))
    message, before, _out = await forge(bot, "lanh_dao", "sum:m:2027-01:-:0")
    assert message.text == before
    assert "chưa bắt đầu" in answers(bot)[-1]


async def test_malformed_period_data_is_a_stale_button(bot, story: Records) -> None:
    await bot.send("lanh_dao", "/summary")
    for data in ("sum:m:2026-Q5:-:0", "sum:m:13/2026:-:0", "sum:zz:2026-11:-:0"):
        message, before, _out = await forge(bot, "lanh_dao", data)
        assert message.text == before
        assert answers(bot)[-1] == STALE


# --- drill down --------------------------------------------------------------------------------


async def test_drill_down_by_type_committee_and_cell(bot, story: Records) -> None:
    await bot.send("lanh_dao", "/summary")
    out = await bot.press("lanh_dao", "Loại hình")
    text = out[-1].text
    assert "Theo loại hình tổ chức" in text
    assert "Doanh nghiệp có vốn đầu tư nước ngoài: chưa có chi bộ" in text
    out = await bot.press("lanh_dao", "Đơn vị sự nghiệp công lập")
    assert "Loại hình: Đơn vị sự nghiệp công lập" in out[-1].text
    assert "1 chi bộ" in out[-1].text
    out = await bot.press("lanh_dao", "Toàn phạm vi")
    assert "4 chi bộ" in out[-1].text
    out = await bot.press("lanh_dao", "TCCS đảng")
    out = await bot.press("lanh_dao", "Đảng bộ Sở Y tế")
    assert "Đảng bộ Sở Y tế" in out[-1].text and "2 chi bộ" in out[-1].text
    out = await bot.press("lanh_dao", "📋 Chi bộ")
    out = await bot.press("lanh_dao", "CBBV-DK")
    assert "Chi bộ Bệnh viện Đa khoa" in out[-1].text
    out = await bot.press("lanh_dao", "Từng tháng")
    months = out[-1].text
    assert "Từng tháng năm 2026" in months
    p, r, _e, _u = story.attendance({"CBBV-DK"}, date(2026, 10, 1), date(2026, 10, 31))
    assert f"10 ✅ 👥 {pct(p, r)} 🚫1" in months
    assert "11 ❌" in months


async def test_every_figure_has_a_list_or_an_explanation(bot, story: Records) -> None:
    await bot.send("lanh_dao", "/summary")
    for label, expected in (
        ("Tỷ lệ dự", "Tỷ lệ dự sinh hoạt theo chi bộ"),
        ("Cấp trên dự", "CBDIEN"),
        ("Chuyên đề", "Chi bộ chưa sinh hoạt chuyên đề"),
        ("Nhận xét", "Nhận xét việc thực hiện bản cam kết theo chi bộ"),
        ("Biểu hiện mới", "(CBDIEN)"),
        ("Quần chúng", "Chưa theo dõi quần chúng ưu tú"),
        ("Báo cáo (", "CBBV-DK"),
        ("Mô hình", "CBMEKONG"),
        ("Cách tính", "Cách tính số liệu"),
    ):
        out = await bot.press("lanh_dao", label)
        assert expected in out[-1].text, label
        await bot.press("lanh_dao", "Quay lại")


async def test_long_lists_are_paged(bot, story: Records) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with bot.db.transaction() as session:
        for i in range(23):
            session.add(
                Organization(
                    code=f"CBX{i:02d}",
                    name=f"Chi bộ thử {i:02d}",
                    name_folded=f"chi bo thu {i:02d}",
                    kind=OrgKind.GRASSROOTS_CELL,
                    org_type="hop_tac_xa",
                    parent_id=bot.khoi.top_id,
                    active_from=date(2026, 1, 1),
                    usual_meeting_day=3,
                    created_at=now,
                    updated_at=now,
                )
            )
    await bot.send("lanh_dao", "/summary")
    out = await bot.press("lanh_dao", "Chưa SH (25)")
    assert "Trang 1/3 · tổng số 25" in out[-1].text
    out = await bot.press("lanh_dao", "›")
    assert "Trang 2/3" in out[-1].text
    out = await bot.press("lanh_dao", "›")
    assert "Trang 3/3" in out[-1].text and "CBX22" in out[-1].text
    assert "›" not in buttons(out[-1])


# --- exports -----------------------------------------------------------------------------------


async def test_excel_word_and_chart_hold_the_same_figures(bot, story: Records) -> None:
    await bot.send("lanh_dao", "/summary")
    await bot.press("lanh_dao", "Năm")
    held = sum(story.regular_held(c, 2026, m) for c in ALL for m in range(1, 12))
    p, r, e, u = story.attendance(ALL, date(2026, 1, 1), date(2026, 12, 31))

    out = await bot.press("lanh_dao", "Excel")
    doc = out[-1].document
    assert doc is not None and doc.file_name == "tong-hop-2026-DUK.xlsx"
    wb = load_workbook(BytesIO(doc.content))
    overview = {row[0]: row[1:] for row in wb["Tổng quan"].iter_rows(values_only=True) if row[0]}
    assert overview["Sinh hoạt thường kỳ đã tổ chức (số chi bộ × số tháng)"][:2] == (held, 44)
    assert overview["Lượt có mặt sinh hoạt thường kỳ"][:2] == (p, r)
    assert overview["Lượt vắng có lý do"][0] == e
    assert overview["Lượt vắng không có lý do"][0] == u
    meetings = wb["Sinh hoạt chi bộ"]
    assert meetings.freeze_panes == "C2" and meetings.auto_filter.ref == "A1:L5"
    rows = list(meetings.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows[:-1]] == sorted(ALL)
    assert rows[-1][0] == "Tổng cộng" and rows[-1][5] == held
    assert isinstance(rows[0][9], datetime)  # the last meeting is a real date

    out = await bot.press("lanh_dao", "Báo cáo Word")
    doc = out[-1].document
    assert doc is not None and doc.file_name == "tong-hop-2026-DUK.docx"
    word = Document(BytesIO(doc.content))
    text = "\n".join(p.text for p in word.paragraphs)
    cells = "\n".join(c.text for t in word.tables for row in t.rows for c in row.cells)
    assert "BÁO CÁO" in text and "ĐẢNG CỘNG SẢN VIỆT NAM" in cells
    assert f"đã tổ chức {held}/44 (số chi bộ × số tháng)" in text
    assert f"{p}/{r} lượt (đạt {pct(p, r)})" in text
    assert "Nơi nhận:" in cells and "T/M BAN THƯỜNG VỤ" in cells

    out = await bot.press("lanh_dao", "Biểu đồ")
    photo = out[-1].photo
    assert photo is not None and photo.content.startswith(b"\x89PNG")
    with bot.db.transaction() as session:
        actions = set(session.scalars(select(AuditLog.action).where(AuditLog.entity == "summary")))
    assert {"export_x", "export_d"} <= actions


# --- scope is checked on every press -----------------------------------------------------------


async def test_forged_buttons_cannot_reach_another_scope(bot, story: Records) -> None:
    orgs = bot.khoi.orgs
    await bot.send("bt_bv", "/summary")
    for data in (
        f"sum:m:2026-11:o{orgs['DBSYT']}:0",
        f"sum:miss:2026-11:o{orgs['CBDIEN']}:0",
        f"sum:c:2026-11:o{orgs['CBVP-SYT']}:0",
        f"sum:x:2026-11:o{orgs['DUK']}:0",
        f"sum:m:2026-11:o{orgs['CBMEKONG']}:0",
    ):
        message, before, out = await forge(bot, "bt_bv", data)
        assert message.text == before, data
        assert not any(m.document for m in out), data
        assert answers(bot)[-1] == OUT_OF_SCOPE, data
    # A type narrows within her scope only: her cell is the one public service unit she sees.
    _m, _b, out = await forge(bot, "bt_bv", "sum:m:2026-11:tsu_nghiep:0")
    assert "1 chi bộ" in out[-1].text and "CBDIEN" not in out[-1].text
    # The committee secretary cannot open a grassroots cell outside her committee either.
    await bot.send("bt_syt", "/summary")
    message, before, _out = await forge(bot, "bt_syt", f"sum:c:2026-11:o{orgs['CBDIEN']}:0")
    assert message.text == before and answers(bot)[-1] == OUT_OF_SCOPE


async def test_a_revoked_leader_is_refused_on_the_message_still_on_screen(
    bot, story: Records
) -> None:
    await bot.send("lanh_dao", "/summary")
    with bot.db.transaction() as session:
        for row in session.scalars(
            select(RoleAssignment).where(
                RoleAssignment.person_id == bot.khoi.users["lanh_dao"].person_id
            )
        ):
            row.revoked_at = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)
            row.revoked_by = "test"
    message = bot.fake.last_message(bot.uid("lanh_dao"))
    before = message.text
    out = await bot.press("lanh_dao", "Chưa SH")
    assert message.text == before and not out
    assert answers(bot)[-1] == NOT_ALLOWED
    out = await bot.press("lanh_dao", "Excel")
    assert not any(m.document for m in out)


async def test_the_digest_button_opens_the_summary(bot, story: Records) -> None:
    uid = bot.uid("lanh_dao")
    await bot.app.bot.send_message(
        uid,
        "Nhắc việc",
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("📊 Tổng hợp", callback_data="sum:open")]]
        ),
    )
    out = await bot.press("lanh_dao", "Tổng hợp")
    assert "Tổng hợp tháng 11/2026" in out[-1].text
    assert bot.fake.last_message(uid).text.startswith("📊")


# --- hostile names and empty corners -----------------------------------------------------------


async def test_names_that_break_html_or_excel_stay_text(bot, story: Records) -> None:
    nasty = 'Chi bộ <b>BV</b> & "Đa khoa" =HYPERLINK("http://x","y")'
    member = '=1+1 <Nguyễn> & "Hà"'
    with bot.db.transaction() as session:
        org = session.get(Organization, bot.khoi.orgs["CBBV-DK"])
        assert org is not None
        org.name = nasty
        flagged = session.scalar(
            select(Member).where(Member.org_id == org.id).order_by(Member.code).offset(1)
        )
        assert flagged is not None
        flagged.full_name = member
    out = await bot.send("bt_bv", "/summary")
    assert nasty in out[-1].text  # shown as typed, not as markup
    assert "&lt;b&gt;" in out[-1].raw_text
    out = await bot.press("bt_bv", "Vắng 3 tháng")
    assert member in out[-1].text
    await bot.press("bt_bv", "Quay lại")
    out = await bot.press("bt_bv", "Excel")
    wb = load_workbook(BytesIO(out[-1].document.content))
    cell = wb["Sinh hoạt chi bộ"]["B2"]
    assert cell.value == nasty and cell.data_type == "s"
    listed = wb["DS vắng không lý do"]["A2"]
    assert listed.value == member and listed.data_type == "s"
    out = await bot.press("bt_bv", "Báo cáo Word")
    word = Document(BytesIO(out[-1].document.content))
    assert any(nasty in p.text for p in word.paragraphs) or any(
        nasty in c.text for t in word.tables for row in t.rows for c in row.cells
    )


async def test_a_cell_with_no_members_and_a_type_with_no_cells(bot, story: Records) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with bot.db.transaction() as session:
        empty = Organization(
            code="CBRONG",
            name="Chi bộ Hợp tác xã Rỗng",
            name_folded="chi bo hop tac xa rong",
            kind=OrgKind.GRASSROOTS_CELL,
            org_type="hop_tac_xa",
            parent_id=bot.khoi.top_id,
            active_from=date(2026, 1, 1),
            created_at=now,
            updated_at=now,
        )
        session.add(empty)
        session.flush()
        empty_id = empty.id
    await bot.send("lanh_dao", "/summary")
    _m, _b, out = await forge(bot, "lanh_dao", f"sum:m:2026-11:o{empty_id}:0")
    assert "0 đảng viên" in out[-1].text and "Tỷ lệ dự: — (0/0)" in out[-1].text
    out = await bot.press("lanh_dao", "Từng tháng")
    assert "Chi bộ chưa có đảng viên trong danh sách." in out[-1].text
    _m, _b, out = await forge(bot, "lanh_dao", "sum:m:2026-11:tdn_fdi:0")
    assert "Loại hình: Doanh nghiệp có vốn đầu tư nước ngoài" in out[-1].text
    assert "không có chi bộ nào thuộc loại này" in out[-1].text


async def test_the_leader_gets_the_roll_up_of_the_plan_reports(bot, story: Records) -> None:
    await bot.send("lanh_dao", "/summary")
    out = await bot.send("lanh_dao", "/summary")
    assert "📑 Tổng hợp BC Kế hoạch" not in buttons(out[-1])  # a year's figure, not a month's
    await bot.press("lanh_dao", "Năm")
    out = await bot.press("lanh_dao", "Tổng hợp BC Kế hoạch")
    doc = out[-1].document
    assert doc is not None and doc.file_name == "tong-hop-bc-ke-hoach-2026-DUK.docx"
    word = Document(BytesIO(doc.content))
    text = "\n".join(p.text for p in word.paragraphs)
    assert "Tổng hợp báo cáo kết quả thực hiện Kế hoạch số 12-KH/ĐUK năm 2026" in text
    assert "2/4 chi bộ đã nộp báo cáo (hạn 15/11/2026): 1 đúng hạn, 1 trễ hạn" in text
    assert "Chưa nộp: Chi bộ Bệnh viện Đa khoa (CBBV-DK); Chi bộ Công ty TNHH" in text


async def test_a_secretary_drafts_the_plan_report_with_the_report_machinery(
    bot, story: Records
) -> None:
    out = await bot.send("bt_bv", "/report")
    assert "Báo cáo năm về kết quả thực hiện Kế hoạch" in out[-1].text
    out = await bot.press("bt_bv", "Kế hoạch · năm 2026")
    text = out[-1].text
    assert "Sinh hoạt thường kỳ 10/12 tháng." in text
    assert "Chưa sinh hoạt: 12/2025, 11/2026." in text
