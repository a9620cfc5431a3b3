"""Reminder stories: what secretaries and leaders receive, /deadlines, /settings, buttons."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from domain.calendar import default_catalog
from services.scheduler import tick
from storage import outbox
from storage.models import (
    Meeting,
    MeetingKind,
    Organization,
    Outbox,
    OutboxStatus,
    Person,
    Role,
    RoleAssignment,
    Snooze,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ)  # type: ignore[misc]


async def tick_at(bot, when: datetime):
    bot.clock.set(when)
    return await tick(bot.app.bot_data["app"], bot.app.bot)


def texts(bot, key: str) -> list[str]:
    return [m.text for m in bot.fake.bot_messages(bot.uid(key))]


def revoke(bot, key: str) -> None:
    with bot.db.transaction() as session:
        for a in session.scalars(
            select(RoleAssignment).where(RoleAssignment.person_id == bot.khoi.users[key].person_id)
        ):
            a.revoked_at = bot.clock.now()


def grant(bot, key: str, org_code: str, role: Role) -> None:
    with bot.db.transaction() as session:
        session.add(
            RoleAssignment(
                person_id=bot.khoi.users[key].person_id,
                org_id=bot.khoi.orgs[org_code],
                role=role,
                granted_at=bot.clock.now(),
                granted_by="test",
            )
        )


def record_meeting(bot, org_code: str, held_on: date, kind=MeetingKind.REGULAR) -> None:
    org_id = bot.khoi.orgs[org_code]
    with bot.db.transaction() as session:
        session.add(
            Meeting(
                org_id=org_id,
                kind=kind,
                held_on=held_on,
                regular_key=f"{org_id}:{held_on:%Y-%m}" if kind.counts_as_regular else None,
                content={},
                created_at=bot.clock.now(),
                updated_at=bot.clock.now(),
            )
        )


async def test_a_secretary_gets_one_short_vietnamese_reminder_with_buttons(bot) -> None:
    await tick_at(bot, local(2027, 3, 4, 8, 0))  # the day before the cell's usual day (5th)

    (message,) = bot.fake.bot_messages(bot.uid("bt_vp"))
    assert "Nhắc việc" in message.text
    assert "Chi bộ Văn phòng Sở Y tế" in message.text
    line = next(ln for ln in message.text.splitlines() if "Hạn 05/03/2027" in ln)
    assert line.startswith("• Hạn 05/03/2027 (còn 1 ngày): chưa ghi nhận sinh hoạt thường kỳ")
    assert "13 đảng viên chưa được nhận xét tháng 03/2027" in line
    assert "/sinhhoat" in message.text
    buttons = dict(message.buttons())
    assert buttons["📝 Ghi nhận sinh hoạt"] == "rem:open:meeting"
    assert buttons["⏰ Nhắc lại ngày mai"].startswith("rem:snz:")
    # Private chats only, and nothing for people who owe nothing today.
    assert all(m.chat_id > 0 for uid in bot.fake.users for m in bot.fake.bot_messages(uid))

    again = await tick_at(bot, local(2027, 3, 4, 8, 30))
    assert again.enqueued == 0
    assert len(bot.fake.bot_messages(bot.uid("bt_vp"))) == 1


async def test_a_secretary_of_two_cells_gets_one_message_listing_both(bot) -> None:
    grant(bot, "bt_vp", "CBBV-DK", Role.SECRETARY)
    await tick_at(bot, local(2027, 3, 12, 8, 0))

    (message,) = bot.fake.bot_messages(bot.uid("bt_vp"))
    assert "Chi bộ Văn phòng Sở Y tế" in message.text
    assert "Chi bộ Bệnh viện Đa khoa" in message.text
    with bot.db.transaction() as session:
        sent = session.scalars(
            select(Outbox).where(Outbox.person_id == bot.khoi.users["bt_vp"].person_id)
        ).all()
    assert len(sent) > 1
    assert {r.telegram_message_id for r in sent} == {message.message_id}


async def test_a_cell_without_a_secretary_reminds_the_committee_and_shows_in_the_digest(
    bot,
) -> None:
    revoke(bot, "bt_vp")
    revoke(bot, "bt_dien")
    await tick_at(bot, local(2027, 3, 8, 8, 0))  # a Monday

    assert texts(bot, "bt_vp") == []
    committee = "\n".join(texts(bot, "bt_syt"))
    assert "Chi bộ Văn phòng Sở Y tế (chưa có bí thư: nhắc đảng ủy cấp trên)" in committee
    # CBDIEN sits directly under the Khối: nobody to remind; leaders see it in the digest.
    (digest,) = bot.fake.bot_messages(bot.uid("lanh_dao"))
    assert "tổ chức đảng chậm tiến độ" in digest.text
    assert "Đảng bộ Sở Y tế" in digest.text and "Cơ quan hành chính nhà nước" in digest.text
    line = next(ln for ln in digest.text.splitlines() if "Chi bộ Công ty Điện lực" in ln)
    assert "(chưa có bí thư)" in line
    assert dict(digest.buttons())["📊 Xem tổng hợp"] == "sum:open"
    assert texts(bot, "kiem_tra") == [digest.text]


async def test_recording_the_meeting_stops_its_reminders(bot) -> None:
    await tick_at(bot, local(2027, 3, 4, 8, 0))
    assert "chưa ghi nhận sinh hoạt thường kỳ tháng 03/2027" in texts(bot, "bt_vp")[-1]
    record_meeting(bot, "CBVP-SYT", date(2027, 3, 5))
    await tick_at(bot, local(2027, 3, 5, 8, 0))
    last = texts(bot, "bt_vp")[-1]
    assert "13 đảng viên chưa được nhận xét tháng 03/2027" in last  # reviews still missing
    assert "chưa ghi nhận sinh hoạt thường kỳ tháng 03/2027" not in last


async def test_a_bot_down_across_a_deadline_sends_the_newest_missed_reminder_once(bot) -> None:
    await tick_at(bot, local(2027, 2, 26, 8, 0))  # Friday: D-7 of the 5 March meeting
    before = len(texts(bot, "bt_vp"))
    await tick_at(bot, local(2027, 3, 11, 9, 30))  # back after 13 days: D+6
    after = texts(bot, "bt_vp")[before:]
    assert len(after) == 1
    assert after[0].count("chưa ghi nhận sinh hoạt thường kỳ tháng 03/2027") == 1
    assert "Hạn 05/03/2027 (quá hạn 6 ngày)" in after[0]
    with bot.db.transaction() as session:
        keys = session.scalars(
            select(Outbox.key).where(Outbox.key.like("rem:regular_meeting:2027-03:%"))
        ).all()
    cell = bot.khoi.orgs["CBVP-SYT"]
    mine = sorted(k for k in keys if f":{cell}:" in k)
    assert [k.rsplit(":", 1)[1] for k in mine] == ["2027-02-26", "2027-03-11"]
    await tick_at(bot, local(2027, 3, 11, 10, 0))
    assert len(texts(bot, "bt_vp")) == before + 1


async def test_a_sunday_deadline_moves_to_monday_and_is_reminded_on_saturday_and_monday(
    bot,
) -> None:
    # The annual report is due Sunday 15/11/2026: the next working day, Monday 16/11 (Civil
    # Code 2015 art. 148), is the due date everywhere.
    await tick_at(bot, local(2026, 11, 14, 8, 0))  # Saturday
    sat = texts(bot, "bt_dien")[-1]
    line = next(ln for ln in sat.splitlines() if "Hạn 16/11/2026" in ln)
    assert line.startswith("• Hạn 16/11/2026 (còn 2 ngày): ")
    assert "chưa gửi Báo cáo năm về khắc phục biểu hiện suy thoái 2026" in line
    assert "15/11/2026" not in sat
    count = len(texts(bot, "bt_dien"))
    result = await tick_at(bot, local(2026, 11, 15, 9, 0))  # Sunday: nothing at all
    assert result.planned == 0 and len(texts(bot, "bt_dien")) == count
    await tick_at(bot, local(2026, 11, 16, 8, 0))  # Monday: due today
    assert "• Hạn 16/11/2026 (hôm nay): " in texts(bot, "bt_dien")[-1]


async def test_nothing_is_sent_at_night_and_the_hour_is_respected(bot) -> None:
    result = await tick_at(bot, local(2027, 3, 4, 22, 0))
    assert result.planned == 0
    result = await tick_at(bot, local(2027, 3, 4, 6, 30))
    assert result.planned == 0
    with bot.db.transaction() as session:
        person = session.get(Person, bot.khoi.users["bt_vp"].person_id)
        assert person is not None
        person.reminder_hour = 10
    await tick_at(bot, local(2027, 3, 4, 8, 0))
    assert texts(bot, "bt_vp") == [] and texts(bot, "bt_bv") != []
    await tick_at(bot, local(2027, 3, 4, 10, 0))
    assert len(texts(bot, "bt_vp")) == 1


async def test_february_29_and_a_quarter_across_the_new_year(bot) -> None:
    with bot.db.transaction() as session:
        org = session.get(Organization, bot.khoi.orgs["CBMEKONG"])
        assert org is not None
        org.usual_meeting_day = 30
    await tick_at(bot, local(2028, 2, 29, 8, 0))
    text = texts(bot, "bt_mekong")[-1]
    assert "• Hạn 29/02/2028 (hôm nay): chưa ghi nhận sinh hoạt thường kỳ tháng 02/2028" in text

    await tick_at(bot, local(2027, 1, 2, 8, 0))  # 1 January is a holiday; the 2nd a Saturday
    text = texts(bot, "bt_mekong")[-1]
    assert (
        "• Hạn 31/12/2026 (quá hạn 2 ngày): chưa ghi nhận sinh hoạt chuyên đề quý IV/2026" in text
    )
    assert "chưa gửi Báo cáo quý về khắc phục biểu hiện suy thoái quý IV/2026" in text


async def test_remind_me_tomorrow(bot) -> None:
    await tick_at(bot, local(2027, 3, 2, 8, 0))  # D-3 of the 5 March meeting
    await bot.press("bt_vp", "Nhắc lại ngày mai")
    answer = bot.fake.callback_answers[-1]
    assert answer.text == "Đã rõ: sẽ nhắc lại đồng chí ngày 03/03/2027 lúc 08:00."
    with bot.db.transaction() as session:
        keys = set(session.scalars(select(Snooze.instance_key)))
    assert f"regular_meeting:2027-03:{bot.khoi.orgs['CBVP-SYT']}" in keys
    await bot.press("bt_vp", "Nhắc lại ngày mai")  # a double tap changes nothing
    count = len(texts(bot, "bt_vp"))
    await tick_at(bot, local(2027, 3, 3, 8, 0))  # no plan slot on the 3rd: only the snooze
    assert len(texts(bot, "bt_vp")) == count + 1
    assert "chưa ghi nhận sinh hoạt thường kỳ tháng 03/2027" in texts(bot, "bt_vp")[-1]


async def test_the_main_button_opens_the_conversation_it_asks_for(bot) -> None:
    await tick_at(bot, local(2027, 3, 4, 8, 0))
    replies = await bot.press("bt_vp", "Ghi nhận sinh hoạt")
    assert "Đây là buổi sinh hoạt loại nào?" in replies[-1].text
    assert "Nhắc việc" in bot.fake.bot_messages(bot.uid("bt_vp"))[0].text  # the reminder stays
    revoke(bot, "bt_bv")
    await tick_at(bot, local(2027, 3, 11, 8, 0))
    replies = await bot.press("bt_syt", "Ghi nhận sinh hoạt")
    assert "không dùng được /meeting" in replies[-1].text
    assert bot.fake.unanswered_callback_queries() == []


async def test_a_forged_snooze_button_is_refused(bot) -> None:
    await tick_at(bot, local(2027, 3, 4, 8, 0))
    with bot.db.transaction() as session:
        other = session.scalar(
            select(Outbox.id).where(Outbox.person_id == bot.khoi.users["bt_bv"].person_id)
        )
    message = bot.fake.bot_messages(bot.uid("bt_vp"))[-1]
    # A client can only press real buttons: rewrite the button the way a forger would.
    assert message.reply_markup is not None
    message.reply_markup[-1][0]["callback_data"] = f"rem:snz:{other}"
    await bot.driver.press_data(bot.uid("bt_vp"), message.message_id, f"rem:snz:{other}")
    with bot.db.transaction() as session:
        assert session.scalars(select(Snooze)).all() == []
    assert "không còn hiệu lực" in (bot.fake.callback_answers[-1].text or "")


async def test_deadlines_lists_overdue_and_coming_items_per_cell(bot) -> None:
    bot.clock.set(local(2027, 3, 8, 9, 0))
    (reply,) = await bot.send("bt_vp", "/hanchot")
    text = reply.text
    assert "Việc đến hạn của đồng chí" in text
    overdue, coming = text.split("Sắp đến hạn")
    assert "Quá hạn" in overdue and "Sinh hoạt chi bộ thường kỳ 03/2027" in overdue
    assert "Chi bộ Văn phòng Sở Y tế" in overdue
    assert "Báo cáo quý về khắc phục biểu hiện suy thoái quý I/2027 — hạn 22/03/2027" in coming
    assert "Sinh hoạt chi bộ thường kỳ 04/2027" in coming  # due 5 April: within 30 days
    assert "05/2027" not in coming
    same = await bot.send("bt_vp", "/deadlines")
    assert same[-1].text == text

    (leader,) = await bot.send("lanh_dao", "/deadlines")
    assert "tổ chức đảng thuộc phạm vi theo dõi đang chậm tiến độ" in leader.text
    assert dict(leader.buttons())["📊 Xem tổng hợp"] == "sum:open"


async def test_settings_choose_the_hour_and_mute(bot) -> None:
    (screen,) = await bot.send("bt_vp", "/settings")
    assert "08:00" in screen.text and "✅ 8h" in dict(screen.buttons())
    await bot.press("bt_vp", "9h")
    await bot.press("bt_vp", "Tắt nhắc việc không thiết yếu")
    edited = bot.fake.last_message(bot.uid("bt_vp"))
    assert edited is not None and "09:00" in edited.text and "đã tắt" in edited.text
    await bot.press("bt_vp", "✅ 9h")  # the same hour again: nothing changes, no error
    with bot.db.transaction() as session:
        person = session.get(Person, bot.khoi.users["bt_vp"].person_id)
        assert person is not None and person.reminder_hour == 9 and person.mute_nonessential
    before = len(texts(bot, "bt_vp"))
    await tick_at(bot, local(2027, 3, 4, 8, 0))
    assert len(texts(bot, "bt_vp")) == before
    await tick_at(bot, local(2027, 3, 4, 9, 0))
    text = texts(bot, "bt_vp")[-1]
    assert "chưa ghi nhận sinh hoạt thường kỳ" in text
    assert "cảm tình Đảng" not in text  # non-essential: muted


async def test_a_person_who_blocked_the_bot_is_marked_and_admins_are_told(bot) -> None:
    await bot.driver.block(bot.uid("bt_vp"))
    await tick_at(bot, local(2027, 3, 4, 8, 0))
    with bot.db.transaction() as session:
        person = session.get(Person, bot.khoi.users["bt_vp"].person_id)
        assert person is not None and person.blocked_at is not None
        statuses = set(session.scalars(select(Outbox.status).where(Outbox.person_id == person.id)))
    assert statuses == {OutboxStatus.BLOCKED}
    # No admin in the demo Khối: the Organization Board of the top organization is told.
    notice = next(t for t in texts(bot, "to_chuc") if "Không liên lạc được" in t)
    assert "Võ Thị Thu Hà" in notice and "Bí thư chi bộ" in notice and "CBVP-SYT" in notice
    result = await tick_at(bot, local(2027, 3, 5, 8, 0))
    assert result.drained is not None and result.drained.blocked == 0


async def test_rows_of_other_features_are_rendered_in_the_readers_language(bot) -> None:
    with bot.db.transaction() as session:
        outbox.enqueue(
            session,
            key="flag:test:1",
            person_id=bot.khoi.users["bt_vp"].person_id,
            kind="flag",
            payload={
                "msgid": "OK: I will remind you on {date} at {hour}:00.",
                "params": {"date": "2027-03-05", "hour": "<b>"},
                "buttons": [[["📊 Open the summary", "sum:open"]]],
            },
            not_before=bot.clock.now(),
            now=bot.clock.now(),
        )
    await tick(bot.app.bot_data["app"], bot.app.bot)
    message = bot.fake.bot_messages(bot.uid("bt_vp"))[-1]
    assert message.text == "Đã rõ: sẽ nhắc lại đồng chí ngày 05/03/2027 lúc <b>:00."
    assert message.buttons() == [("📊 Xem tổng hợp", "sum:open")]


async def _cli(bot, monkeypatch, tmp_path, *argv: str) -> int:
    """Run ``chibo …`` as an operator would (in a thread: it runs its own event loop)."""
    from bot.cli import main

    monkeypatch.chdir(tmp_path)  # no .env file
    monkeypatch.setenv("DATABASE_URL", bot.db.engine.url.render_as_string(hide_password=False))
    return await asyncio.to_thread(main, list(argv))


async def test_the_cli_previews_exactly_what_a_tick_would_send(
    bot, monkeypatch, tmp_path, capsys
) -> None:
    assert await _cli(bot, monkeypatch, tmp_path, "reminders", "--at", "2027-03-04 08:00") == 0
    preview = capsys.readouterr().out
    with bot.db.transaction() as session:
        assert outbox.count(session) == 0  # nothing written…
    assert all(bot.fake.bot_messages(u) == [] for u in bot.fake.users)  # …nothing sent
    assert "→ Võ Thị Thu Hà" in preview
    assert "rem:regular_meeting:2027-03:" in preview
    await tick_at(bot, local(2027, 3, 4, 8, 0))
    for user in bot.khoi.users.values():
        for message in bot.fake.bot_messages(user.telegram_user_id):
            for line in message.text.splitlines():
                assert f"| {line}" in preview  # the very text the tick sent

    assert await _cli(bot, monkeypatch, tmp_path, "reminders", "--at", "2027-03-13 08:00", "--org",
                "CBMEKONG") == 0  # fmt: skip
    scoped = capsys.readouterr().out
    assert "Thạch Thị Sa Ry" in scoped and "Võ Thị Thu Hà" not in scoped


async def test_the_cli_prints_the_calendar_and_refuses_a_bad_file(
    bot, monkeypatch, tmp_path, capsys
) -> None:
    assert await _cli(bot, monkeypatch, tmp_path, "calendar", "--year", "2027") == 0
    out = capsys.readouterr().out
    # 20/03/2027 is a Saturday: the report is due on Monday 22/03.
    assert "2027-03-22 T2  Báo cáo quý về khắc phục biểu hiện suy thoái quý I/2027" in out
    assert "2027-11-15 T2  Báo cáo năm kết quả thực hiện Kế hoạch 12-KH/ĐUK 2027" in out
    assert "[Kế hoạch 12-KH/ĐUK, mục III.1 (ngày 15/11)]" in out
    assert "2027-02-06 T7  Tết Nguyên đán (mùng 1)" in out

    # Any year: Tết 2030 starts on Saturday 02/02/2030 (Vietnam's time zone).
    assert await _cli(bot, monkeypatch, tmp_path, "calendar", "--year", "2030") == 0
    out = capsys.readouterr().out
    assert "Ngày nghỉ lễ năm 2030" in out
    assert "2030-02-02 T7  Tết Nguyên đán (mùng 1)" in out
    assert "2030-02-03" in out and "2030-04-12 T6  Giỗ Tổ Hùng Vương" in out
    assert "2030-02-06 T4  Nghỉ bù" in out

    # The Government's decisions of 2026 with their source: 02/01 off, Saturday 10/01 worked.
    assert await _cli(bot, monkeypatch, tmp_path, "calendar", "--year", "2026") == 0
    out = capsys.readouterr().out
    assert "2026-01-02 T6  Nghỉ hoán đổi dịp Tết Dương lịch" in out
    assert "2026-01-10 T7  Làm bù cho ngày nghỉ 02/01/2026  [Công văn 12729/VPCP-KGVX" in out

    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[obligation]]\ncode = "x1"\ntitle_vi = "x"\ntitle_en = "x"\nrule_source = "r"\n'
        'every = "year"\nmonth = 2\nday = 29\nowed_by = ["cell"]\nremind = ["secretary"]\n'
        'discharged_by = "manual"\n',
        encoding="utf-8",
    )
    assert await _cli(bot, monkeypatch, tmp_path, "calendar", "load", str(bad)) == 1
    err = capsys.readouterr().err
    assert "obligation 'x1': bad date rule: day 29 does not exist in February" in err
    assert "unchanged" in err
    good = tmp_path / "holidays.toml"
    good.write_text(
        '[[holiday]]\nday = 2029-01-02\nname = "Nghỉ thêm"\n'
        '[[working_day]]\nday = 2029-01-06\nname = "Làm bù"\nsource = "TB 2029"\n',
        encoding="utf-8",
    )
    assert await _cli(bot, monkeypatch, tmp_path, "calendar", "load", str(good)) == 0
    out = capsys.readouterr().out
    assert "Đã nạp 1 ngày nghỉ lễ cho năm 2029." in out
    assert "Đã nạp 1 ngày làm bù cho năm 2029." in out
    assert await _cli(bot, monkeypatch, tmp_path, "calendar", "--year", "2029") == 0
    out = capsys.readouterr().out
    assert "2029-01-02 T3  Nghỉ thêm" in out and "2029-01-06 T7  Làm bù  [TB 2029]" in out
    assert "2029-02-13 T3  Tết Nguyên đán (mùng 1)" in out


async def test_the_cli_lists_who_cannot_be_reached(bot, monkeypatch, tmp_path, capsys) -> None:
    await bot.driver.block(bot.uid("bt_mekong"))
    await tick_at(bot, local(2027, 3, 13, 8, 0))
    assert await _cli(bot, monkeypatch, tmp_path, "reminders", "--unreachable") == 0
    out = capsys.readouterr().out
    assert "Thạch Thị Sa Ry: đã chặn bot từ 13/03/2027; secretary@CBMEKONG" in out


async def test_one_periodic_job_runs_the_tick(db) -> None:
    from bot.app import build_application
    from bot.testing.request import FakeTelegramRequest
    from bot.testing.telegram_double import FakeTelegram
    from tests.auxil.botkit import TOKEN
    from tests.auxil.botkit import test_settings as make_settings

    app = build_application(
        make_settings(), db, request=FakeTelegramRequest(FakeTelegram(token=TOKEN)), jobs=True
    )
    assert app.job_queue is not None
    (job,) = app.job_queue.get_jobs_by_name("chibo-reminders")
    assert job.job.trigger.interval.total_seconds() == 60
    assert job.job.max_instances == 1 and job.job.coalesce


async def test_a_briefing_reaches_the_secretaries_in_scope_who_answer_with_one_tap(
    bot, monkeypatch, tmp_path, capsys
) -> None:
    bot.clock.set(local(2027, 3, 1, 9, 0))
    code = await _cli(
        bot, monkeypatch, tmp_path, "notices", "send", "--kind", "briefing",
        "--scope", "committee:DBSYT", "--title", "Giao ban bí thư quý I",
        "--at", "2027-03-20 08:00", "--place", "Hội trường Đảng ủy Khối",
    )  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    notice_id = int(out.split("notices status ")[1].split()[0])
    assert "để gửi 3 bí thư" in out
    await tick(bot.app.bot_data["app"], bot.app.bot)
    invite = next(m for m in bot.fake.bot_messages(bot.uid("bt_vp")) if "Giao ban" in m.text)
    assert "🗓 20/03/2027 08:00" in invite.text and "Hội trường Đảng ủy Khối" in invite.text
    assert "Đề nghị đồng chí cho biết có dự hay không." in invite.text
    assert not any("Giao ban" in t for t in texts(bot, "bt_mekong"))  # not in scope

    await bot.press("bt_vp", "Tôi sẽ dự")
    await bot.press("bt_vp", "Tôi sẽ dự")  # double tap: one answer
    assert bot.fake.callback_answers[-1].text == "Cảm ơn đồng chí: đã ghi nhận sẽ dự."
    await bot.press("bt_syt", "Xin vắng")
    # Someone the notice was not sent to cannot answer it with a forged button.
    forged = bot.fake.bot_messages(bot.uid("bt_mekong"))[-1]
    assert forged.reply_markup is not None
    forged.reply_markup[0][0]["callback_data"] = f"ntc:attend:{notice_id}"
    await bot.driver.press_data(bot.uid("bt_mekong"), forged.message_id, f"ntc:attend:{notice_id}")
    assert "không còn hiệu lực" in (bot.fake.callback_answers[-1].text or "")

    assert await _cli(bot, monkeypatch, tmp_path, "notices", "status", str(notice_id)) == 0
    status = capsys.readouterr().out
    assert "sẽ dự (1): Võ Thị Thu Hà" in status
    assert "không dự được (1): Nguyễn Thanh Sơn" in status
    assert "chưa trả lời (1): Huỳnh Văn Tâm" in status

    # The briefing dated in the quarter discharges the Organization Board's obligation.
    with bot.db.transaction() as session:
        from services import calendar
        from storage import obligations as ob

        catalog = calendar.current(session)
        items = ob.instances(
            session, catalog, calendar.work_calendar(session, catalog),
            start=date(2027, 3, 31), end=date(2027, 3, 31), tz=TZ, include_done=True,
        )  # fmt: skip
    (briefing,) = [i for i in items if i.obligation == "secretaries_briefing"]
    assert briefing.done


async def test_a_deadline_on_a_public_holiday(bot) -> None:
    with bot.db.transaction() as session:
        org = session.get(Organization, bot.khoi.orgs["CBMEKONG"])
        assert org is not None
        org.usual_meeting_day = 2  # 2 September 2027: Quốc khánh (2–3 Sep off)
    await tick_at(bot, local(2027, 9, 1, 8, 0))
    assert "• Hạn 02/09/2027 (còn 1 ngày)" in texts(bot, "bt_mekong")[-1]
    count = len(texts(bot, "bt_mekong"))
    for day in (2, 3):
        result = await tick_at(bot, local(2027, 9, day, 8, 0))
        assert result.planned == 0
    assert len(texts(bot, "bt_mekong")) == count
    await tick_at(bot, local(2027, 9, 4, 8, 0))  # Saturday: the on-the-day reminder, moved
    assert "• Hạn 02/09/2027 (quá hạn 2 ngày)" in texts(bot, "bt_mekong")[-1]


async def test_the_job_drains_every_minute_and_plans_once_an_hour(bot, monkeypatch) -> None:
    from types import SimpleNamespace

    from services import scheduler

    calls: list[datetime] = []
    real_plan = scheduler.plan

    def counting_plan(session, **kw):
        calls.append(kw["now"])
        return real_plan(session, **kw)

    monkeypatch.setattr(scheduler, "plan", counting_plan)
    context = SimpleNamespace(bot_data=bot.app.bot_data, bot=bot.app.bot)
    bot.clock.set(local(2027, 3, 4, 8, 0))
    await scheduler._tick_job(context)  # type: ignore[arg-type]
    assert len(texts(bot, "bt_vp")) == 1
    bot.clock.set(local(2027, 3, 4, 8, 1))
    with bot.db.transaction() as session:
        outbox.enqueue(
            session, key="later:1", person_id=bot.khoi.users["bt_vp"].person_id, kind="notice",
            payload={"msgid": "Hello, {name}!", "params": {"name": "x"}},
            not_before=bot.clock.now(), now=bot.clock.now(),
        )  # fmt: skip
    await scheduler._tick_job(context)  # type: ignore[arg-type]
    assert len(calls) == 1 and len(texts(bot, "bt_vp")) == 2  # drained, not planned again
    bot.clock.set(local(2027, 3, 4, 9, 0))
    await scheduler._tick_job(context)  # type: ignore[arg-type]
    assert len(calls) == 2


async def test_a_cell_added_to_chibo_today_is_not_chased_for_what_fell_due_before(bot) -> None:
    from storage.models import Organization

    with bot.db.transaction() as session:
        cell = session.get(Organization, bot.khoi.orgs["CBVP-SYT"])
        assert cell is not None
        cell.created_at = local(2027, 3, 11, 9, 0)  # imported after its 05/03 meeting day
    await tick_at(bot, local(2027, 3, 12, 8, 0))
    vp = "\n".join(texts(bot, "bt_vp"))
    assert "Hạn 05/03/2027" not in vp
    assert "Hạn 10/03/2027" in "\n".join(texts(bot, "bt_bv"))  # a cell followed all along
    await tick_at(bot, local(2027, 3, 30, 8, 0))
    assert "Hạn 05/04/2027" in "\n".join(texts(bot, "bt_vp"))  # and from now on, as usual


async def test_an_admin_corrects_the_signs_of_degradation_from_the_cli(
    bot, monkeypatch, tmp_path, capsys
) -> None:
    from storage.reviews import SIGNS_FILE

    text = SIGNS_FILE.read_text(encoding="utf-8")
    good = tmp_path / "signs.md"
    good.write_text(text.replace("(*) Tham nhũng, tham ô", "Tham nhũng, tham ô (sửa)"), "utf-8")
    bad = tmp_path / "bad.md"
    bad.write_text(text.replace("9. (*) Tư tưởng dân tộc hẹp hòi, cực đoan.", ""), "utf-8")
    assert await _cli(bot, monkeypatch, tmp_path, "signs", "load", str(bad)) == 1
    assert "group TD: expected signs 1–9" in capsys.readouterr().err
    assert await _cli(bot, monkeypatch, tmp_path, "signs", "load", str(good)) == 0
    assert "Đã nạp 27 biểu hiện suy thoái" in capsys.readouterr().out
    assert await _cli(bot, monkeypatch, tmp_path, "signs", "show") == 0
    out = capsys.readouterr().out
    assert "DD7  Tham nhũng, tham ô (sửa)" in out and "TT1  Phai nhạt" in out


async def test_the_sympathizer_list_reminder_opens_the_candidates_list(bot) -> None:
    shipped = default_catalog().get("candidate_consideration")
    assert shipped is not None and shipped.open == "candidates"
    await tick_at(bot, local(2027, 3, 4, 8, 0))
    (message,) = bot.fake.bot_messages(bot.uid("bt_vp"))

    replies = await bot.driver.press_data(
        bot.uid("bt_vp"), message.message_id, "rem:open:candidates"
    )

    assert any("🌱" in r.text and "Chi bộ Văn phòng Sở Y tế" in r.text for r in replies)
