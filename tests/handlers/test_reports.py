"""Stories of /report: three monthly reviews become the quarterly report the bot drafts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import BytesIO

import pytest
from docx import Document
from sqlalchemy import func, select

from domain import access
from domain.access import LEADERS, may_use
from storage.models import (
    AuditLog,
    Outbox,
    OutboxStatus,
    Report,
    ReportStatus,
    Role,
)
from tests.handlers.test_reviews import (
    Taps,
    add_meeting,
    review_two_not_progressing,
    reviewable,
    set_day,
)


def report_row(bot) -> Report | None:
    with bot.db.transaction() as session:
        return session.scalar(select(Report))


def count(bot, stmt) -> int:
    with bot.db.transaction() as session:
        return int(session.scalar(stmt) or 0)


def texts(messages) -> str:
    return "\n".join(m.text for m in messages)


@pytest.fixture
def leaders_use_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leaders read the cells' standing through /report (the issue asks for it).

    bot/access.py does not grant /report to the top organization's offices yet; until it does,
    this story grants it here.
    """
    if not may_use("report", [Role.INSPECTION]):
        monkeypatch.setitem(
            access.COMMAND_ROLES, "report", access.COMMAND_ROLES["report"] | LEADERS
        )


async def test_three_monthly_reviews_become_the_quarterly_report(bot) -> None:
    """Done means: October finds a new sign, November sees no change, December the remedy."""
    a, b = reviewable(bot)[:2]  # a: no change in October; b: a new sign, remedied in December
    add_meeting(bot, date(2026, 10, 10))
    add_meeting(bot, date(2026, 11, 10))
    taps = Taps(bot)

    set_day(bot, date(2026, 10, 12))
    await bot.send("bt_bv", "/review")
    await review_two_not_progressing(bot, taps, no_change=a, new_sign=b)
    await bot.press("bt_bv", "Xong")

    set_day(bot, date(2026, 11, 12))
    await bot.send("bt_bv", "/review")
    await taps.member(b.id)
    await taps.press("Chưa khắc phục")
    await taps.press("Những người còn lại có tiến bộ")

    set_day(bot, date(2026, 12, 10))
    await bot.send("bt_bv", "/review")
    board = await taps.press("Những người còn lại có tiến bộ")
    assert "Chưa ghi nhận buổi sinh hoạt tháng 12/2026" in board[-1].text

    set_day(bot, date(2026, 12, 15), hour=9)
    await bot.send("bt_bv", "/report")
    shown = await bot.press("bt_bv", "quý IV/2026")
    draft = shown[-1].text
    assert "Báo cáo quý về kết quả khắc phục biểu hiện suy thoái — quý IV/2026" in draft
    assert "Hạn nộp 21/12/2026 · thời gian báo cáo 01/10/2026–21/12/2026" in draft
    assert "Tình trạng: bản nháp (chưa đến hạn)." in draft
    assert "• 10/2026: đã nhận xét 24/24 — ✅ 0 · 🔄 22 · ➖ 1 · ⚠️ 1" in draft
    assert "• 11/2026: đã nhận xét 24/24 — ✅ 0 · 🔄 23 · ➖ 1 · ⚠️ 0" in draft
    assert (
        "• 12/2026: đã nhận xét 24/24 — ✅ 0 · 🔄 24 · ➖ 0 · ⚠️ 0 (chưa ghi nhận buổi sinh hoạt)"
        in draft
    )
    assert "Cộng: ✅ 0 · 🔄 69 · ➖ 2 · ⚠️ 1" in draft
    assert (
        f"• {b.full_name} — tháng 10/2026, đạo đức, lối sống: Vi phạm đạo đức gia đình, sa vào "
        "tệ nạn xã hội. Biện pháp: Chi ủy nhắc nhở, đảng viên viết kiểm điểm" in draft
    )
    assert f"• {a.full_name} — tháng 11/2026 (trước đó: chưa khắc phục)" in draft
    assert f"• {b.full_name} — tháng 12/2026 (trước đó: chưa khắc phục)" in draft
    assert "<b>" not in draft  # HTML rendered, not shown

    await bot.press("bt_bv", "Đánh giá chung")
    await bot.send("bt_bv", "Chi bộ duy trì nhận xét hằng tháng; 1 đảng viên đã khắc phục.")
    await bot.press("bt_bv", "Nộp báo cáo")
    done = await bot.press("bt_bv", "✅ Nộp")

    assert "Đã nộp báo cáo ngày 15/12/2026 lúc 09:00 (đúng hạn)." in texts(done)
    assert "Sẽ báo cho 1 đồng chí ở Ủy ban Kiểm tra." in texts(done)
    assert "Tình trạng: đã nộp ngày 15/12/2026 (đúng hạn)." in texts(done)
    report = report_row(bot)
    assert report is not None
    assert (report.kind, report.period, report.status) == (
        "remedy_quarterly",
        "2026-Q4",
        ReportStatus.SUBMITTED,
    )
    assert report.submitted_at == datetime(2026, 12, 15, 2, 0, tzinfo=UTC)
    assert report.submitted_by == bot.khoi.users["bt_bv"].person_id
    assert report.due_on == date(2026, 12, 21)  # 20/12/2026 is a Sunday
    assert report.assessment.startswith("Chi bộ duy trì nhận xét hằng tháng")
    figures = report.figures
    assert figures["totals"] == {
        "reviews": 72,
        "remedied": 0,
        "progressing": 69,
        "no_change": 2,
        "new_sign": 1,
    }
    assert figures["by_sign"] == {"DD9": 1}
    assert [(m["month"], m["reviewed"], m["meeting"]) for m in figures["months"]] == [
        ("2026-10", 24, True),
        ("2026-11", 24, True),
        ("2026-12", 24, False),
    ]
    assert figures["new_signs"] == [
        {
            "name": b.full_name,
            "month": "2026-10",
            "group": "ethics",
            "sign": "DD9",
            "sign_text": "Vi phạm đạo đức gia đình, sa vào tệ nạn xã hội.",
            "description": None,
            "measure": "Chi ủy nhắc nhở, đảng viên viết kiểm điểm",
        }
    ]
    assert {(i["name"], i["month"]) for i in figures["improved"]} == {
        (a.full_name, "2026-11"),
        (b.full_name, "2026-12"),
    }
    assert figures["watch"] == [] and figures["no_reviews"] is False
    with bot.db.transaction() as session:
        outbox = session.scalars(select(Outbox)).all()
        assert [(o.person_id, o.kind, o.status) for o in outbox] == [
            (bot.khoi.users["kiem_tra"].person_id, "report_submitted", OutboxStatus.PENDING)
        ]
        assert outbox[0].key == (f"rpt:{report.id}:1:{bot.khoi.users['kiem_tra'].person_id}")
        assert outbox[0].payload["params"]["cell"] == "Chi bộ Bệnh viện Đa khoa"
    assert count(bot, select(func.count(AuditLog.id)).where(AuditLog.action == "submit")) == 1

    sent = await bot.press("bt_bv", "Tải tệp .docx")
    document = sent[-1].document
    assert document is not None and document.file_name.endswith(".docx")
    doc = Document(BytesIO(document.content))
    body = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "BÁO CÁO" in body and "quý IV/2026" in body
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in cells and "Cần Thơ, ngày 15 tháng 12 năm 2026" in cells
    assert b.full_name in cells and "Chi ủy nhắc nhở, đảng viên viết kiểm điểm" in cells
    assert "T/M CHI ỦY" in cells and "Huỳnh Văn Tâm" in cells
    assert taps.count == 7 + 3 + 1  # October (the new sign picked with a tap), November, December


async def test_a_report_submitted_from_two_devices_is_submitted_once(bot) -> None:
    await bot.send("bt_bv", "/review")
    await bot.press("bt_bv", "Những người còn lại có tiến bộ")
    uid = bot.uid("bt_bv")
    confirms = []
    for _device in range(2):  # both phones open the report and tap "Submit"
        await bot.send("bt_bv", "/report 2026-Q4")
        shown = await bot.press("bt_bv", "Nộp báo cáo")
        confirms.append(shown[-1])
    data = [next(d for label, d in m.buttons() if label == "✅ Nộp") for m in confirms]
    assert data[0] == data[1]

    await bot.driver.press_data(uid, confirms[0].message_id, data[0])
    second = await bot.driver.press_data(uid, confirms[1].message_id, data[1])

    assert bot.fake.callback_answers[-1].text == "Báo cáo này đã được nộp."
    assert "Tình trạng: đã nộp" in second[-1].text
    assert count(bot, select(func.count(Report.id))) == 1
    assert count(bot, select(func.count(Outbox.id))) == 1
    assert count(bot, select(func.count(AuditLog.id)).where(AuditLog.entity == "report")) == 1
    confirmations = [m for m in bot.fake.bot_messages(uid) if "Đã nộp báo cáo ngày" in m.text]
    assert len(confirmations) == 1


async def test_a_quarter_with_no_reviews_says_so_and_needs_an_explanation(bot) -> None:
    await bot.send("bt_bv", "/report")
    shown = await bot.press("bt_bv", "quý IV/2026")
    text = shown[-1].text
    assert "Trong kỳ chưa có nhận xét hằng tháng nào." in text
    assert "✅ 0" not in text and "Cộng:" not in text
    confirm = await bot.press("bt_bv", "Nộp báo cáo")
    # The confirmation does not promise what the submission would refuse.
    assert "Đồng chí vui lòng thêm phần đánh giá" in confirm[-1].text
    assert not any(label.startswith("✅") for label, _d in confirm[-1].buttons())
    assert report_row(bot) is None
    await bot.press("bt_bv", "Đánh giá chung")
    await bot.send("bt_bv", "Chi bộ chưa tổ chức nhận xét do kiện toàn chi ủy.")
    confirm = await bot.press("bt_bv", "Nộp báo cáo")
    assert "báo cáo sẽ ghi rõ điều này" in confirm[-1].text
    await bot.press("bt_bv", "✅ Nộp")
    report = report_row(bot)
    assert report is not None and report.status is ReportStatus.SUBMITTED
    assert report.figures["no_reviews"] is True


async def test_a_submitted_report_is_reopened_only_with_a_reason(bot) -> None:
    await bot.send("bt_bv", "/review")
    await bot.press("bt_bv", "Những người còn lại có tiến bộ")
    await bot.send("bt_bv", "/report 2026-Q4")
    await bot.press("bt_bv", "Nộp báo cáo")
    await bot.press("bt_bv", "✅ Nộp")

    await bot.press("bt_bv", "Mở lại")
    refused = await bot.send("bt_bv", "...")
    assert "Đồng chí vui lòng nêu lý do mở lại báo cáo." in texts(refused)
    reopened = await bot.send("bt_bv", "Sửa số liệu tháng 11")
    assert "Đã mở lại báo cáo" in texts(reopened)
    assert "đã mở lại để sửa: Sửa số liệu tháng 11" in reopened[-1].text
    report = report_row(bot)
    assert report is not None and report.status is ReportStatus.REOPENED
    with bot.db.transaction() as session:
        audit = session.scalar(select(AuditLog).where(AuditLog.action == "reopen"))
        assert audit is not None and audit.actor_person_id == bot.khoi.users["bt_bv"].person_id
        assert audit.after["reopen_reason"] == "Sửa số liệu tháng 11"

    await bot.press("bt_bv", "Nộp báo cáo")
    await bot.press("bt_bv", "✅ Nộp")
    with bot.db.transaction() as session:
        keys = sorted(session.scalars(select(Outbox.key)))
    assert [k.split(":")[2] for k in keys] == ["1", "2"]


async def test_the_draft_docx_is_marked_as_a_draft_and_the_export_audited(bot) -> None:
    await bot.send("bt_bv", "/report 2026-Q4")
    sent = await bot.press("bt_bv", "Bản nháp .docx")
    assert sent[-1].document is not None
    assert "(bản nháp, chưa nộp)" in sent[-1].text
    assert count(bot, select(func.count(AuditLog.id)).where(AuditLog.action == "export")) == 1


async def test_leaders_see_which_cells_submitted_and_the_members_under_watch(
    bot, leaders_use_report
) -> None:
    a, b = reviewable(bot)[:2]
    await bot.send("bt_bv", "/review")
    await review_two_not_progressing(bot, Taps(bot), no_change=a, new_sign=b)
    await bot.send("bt_bv", "/report 2026-Q4")
    await bot.press("bt_bv", "Nộp báo cáo")
    await bot.press("bt_bv", "✅ Nộp")

    menu = await bot.send("kiem_tra", "/report")
    assert "Tình hình nộp báo cáo của các chi bộ" in menu[-1].text
    status = await bot.press("kiem_tra", "📊 Báo cáo khắc phục · quý IV/2026")
    text = status[-1].text
    # The grassroots party committee owes its own remedy report too (drafted from its cells).
    assert "Hạn 21/12/2026 · 4 chi bộ, 1 đảng bộ cơ sở" in text
    assert "✅ đúng hạn: 1 · 🕒 trễ hạn: 0 · ❌ chưa nộp (quá hạn): 0 · ⏳ chưa đến hạn: 4" in text
    assert "⏳ DBSYT — Đảng bộ Sở Y tế" in text
    assert "✅ CBBV-DK — Chi bộ Bệnh viện Đa khoa — nộp ngày 16/11/2026" in text
    sent = await bot.press("kiem_tra", "📄 CBBV-DK")
    assert sent[-1].document is not None

    await bot.send("kiem_tra", "/report")
    watch = await bot.press("kiem_tra", "Đảng viên đang được theo dõi")
    assert b.full_name in watch[-1].text and a.full_name not in watch[-1].text
    assert count(bot, select(func.count(AuditLog.id)).where(AuditLog.entity == "watch_list")) == 1

    # Last quarter's reports were due on 20/09: every cell is missing.
    await bot.send("kiem_tra", "/report")
    status = await bot.press("kiem_tra", "📊 Báo cáo khắc phục · quý III/2026")
    assert "❌ chưa nộp (quá hạn): 5" in status[-1].text


async def test_a_grassroots_secretary_sees_only_the_cells_below(bot) -> None:
    await bot.send("bt_syt", "/report")
    status = await bot.press("bt_syt", "📊 Báo cáo khắc phục · quý IV/2026")
    text = status[-1].text
    assert "2 chi bộ, 1 đảng bộ cơ sở" in text and "CBBV-DK" in text and "CBVP-SYT" in text
    assert "CBDIEN" not in text
    menu = await bot.send("bt_syt", "/report")
    assert all(d != "rpt:w" for _l, d in menu[-1].buttons())


async def test_a_grassroots_committee_drafts_submits_and_reopens_its_own_report(bot) -> None:
    """The committee's secretary drafts the committee's quarterly report from its cells'
    reports (figures added up, which cells submitted), submits and reopens it like a cell."""
    a, b = reviewable(bot)[:2]
    await bot.send("bt_bv", "/review")
    await review_two_not_progressing(bot, Taps(bot), no_change=a, new_sign=b)
    await bot.send("bt_bv", "/report 2026-Q4")
    await bot.press("bt_bv", "Nộp báo cáo")
    await bot.press("bt_bv", "✅ Nộp")

    deadlines = await bot.send("bt_syt", "/hanchot")
    # /deadlines names the committee's own report (it can submit it), nothing a cell does.
    assert "Đảng bộ Sở Y tế\n• Báo cáo năm về khắc phục biểu hiện suy thoái 2026" in texts(
        deadlines
    )
    assert "Sinh hoạt" not in texts(deadlines)
    menu = await bot.send("bt_syt", "/baocao")
    assert "Đảng bộ Sở Y tế" in menu[-1].text
    shown = await bot.press("bt_syt", "📝 Báo cáo khắc phục · quý IV/2026")
    draft = shown[-1].text
    assert "Đảng bộ Sở Y tế" in draft
    assert "Báo cáo của các chi bộ: 1/2 chi bộ đã nộp" in draft
    assert "✅ Chi bộ Bệnh viện Đa khoa: đã nộp ngày 16/11/2026 (đúng hạn)" in draft
    assert "⏳ Chi bộ Văn phòng Sở Y tế: chưa đến hạn" in draft
    # The figures add up the cells' reviews: the hospital's 24 of November, none at the office.
    # 24 of the 37 members of the two cells (24 + 13) reviewed; no meeting recorded.
    assert (
        "• 11/2026: đã nhận xét 24/37 — ✅ 0 · 🔄 22 · ➖ 1 · ⚠️ 1 · 0/2 chi bộ sinh hoạt" in draft
    )
    assert "Cộng: ✅ 0 · 🔄 22 · ➖ 1 · ⚠️ 1" in draft

    await bot.press("bt_syt", "Nộp báo cáo")
    done = await bot.press("bt_syt", "✅ Nộp")
    assert "Đã nộp báo cáo ngày 16/11/2026" in texts(done)
    committee = bot.khoi.orgs["DBSYT"]
    with bot.db.transaction() as session:
        report = session.scalar(select(Report).where(Report.org_id == committee))
        assert report is not None and report.status is ReportStatus.SUBMITTED
        assert report.submitted_by == bot.khoi.users["bt_syt"].person_id
        assert report.figures["cells_submitted"] == 1
        assert [c["code"] for c in report.figures["cells"]] == ["CBBV-DK", "CBVP-SYT"]
        assert report.figures["totals"]["reviews"] == 24
        audit = session.scalar(
            select(AuditLog).where(
                AuditLog.action == "submit", AuditLog.entity_id == str(report.id)
            )
        )
        assert audit is not None
        assert audit.actor_person_id == bot.khoi.users["bt_syt"].person_id
        note = session.scalar(select(Outbox).where(Outbox.key.like(f"rpt:{report.id}:1:%")))
        assert note is not None and note.payload["params"]["cell"] == "Đảng bộ Sở Y tế"

    # The Word document is issued by the committee (Đảng ủy), under the Khối, signed T/M ĐẢNG ỦY.
    sent = await bot.press("bt_syt", "Tải tệp .docx")
    doc = Document(BytesIO(sent[-1].document.content))
    body = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "ĐẢNG ỦY SỞ Y TẾ" in cells.upper() and "-BC/ĐU" in cells
    assert "T/M ĐẢNG ỦY" in cells and "Nguyễn Thanh Sơn" in cells
    assert "I. BÁO CÁO CỦA CÁC CHI BỘ TRỰC THUỘC" in body
    assert "1/2 chi bộ trực thuộc đã nộp báo cáo" in body
    assert "Trong quý IV/2026, các chi bộ trực thuộc đã nhận xét" in body
    assert "chi bộ đã nhận xét" not in body
    assert "Lưu Văn phòng Đảng ủy." in body + cells

    await bot.press("bt_syt", "Mở lại")
    reopened = await bot.send("bt_syt", "Chờ báo cáo của Chi bộ Văn phòng")
    assert "Đã mở lại báo cáo" in texts(reopened)
    with bot.db.transaction() as session:
        report = session.scalar(select(Report).where(Report.org_id == committee))
        assert report is not None and report.status is ReportStatus.REOPENED
        audit = session.scalar(select(AuditLog).where(AuditLog.action == "reopen"))
        assert audit is not None
        assert audit.actor_person_id == bot.khoi.users["bt_syt"].person_id
        assert audit.after["reopen_reason"] == "Chờ báo cáo của Chi bộ Văn phòng"
