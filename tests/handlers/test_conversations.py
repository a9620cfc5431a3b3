"""The conversation engine through the real bot on the Telegram double: nothing typed or tapped
is thrown away, one answer per button, no edit of a message into itself, typed text refused
rather than cut, secret documents refused in any chat, and the truth after a Telegram error."""

from __future__ import annotations

from sqlalchemy import select

from domain.rules.meetings import is_marked_secret
from domain.text import has_letters, visible
from storage import meetings as m
from storage import review_steps
from storage.models import Meeting, Report, ReportStatus
from tests.auxil.botkit import BotKit
from tests.handlers.test_meetings import Taps, count, draft_of, members, to_attendance
from tests.handlers.test_reviews import reviewable

SECRET_VI = "tài liệu mật"  # part of the Vietnamese refusal


def calls(bot: BotKit, method: str, since: int = 0) -> list[dict]:
    return [p for name, p in bot.fake.calls[since:] if name == method]


async def absent_two(t: Taps, bot: BotKit) -> tuple[int, int]:
    await to_attendance(t)
    x, y = members(bot)[0], members(bot)[1]
    await t.tap("mtg:abs:", f":{x.id}")
    await t.tap("mtg:abs:", f":{y.id}")
    return x.id, y.id


# --- Nothing typed or tapped is thrown away --------------------------------------------------


async def test_review_while_a_meeting_is_half_logged_offers_continue_or_discard(
    bot: BotKit,
) -> None:
    t = Taps(bot, "bt_bv")
    x, y = await absent_two(t, bot)
    await t.type("/review")
    offer = t.text()
    assert "dở" in offer and "22/24" in offer  # what would be lost is shown
    assert {d.split(":")[1] for d in t.data()} == {"go", "new"}
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.flow == m.FLOW and d.data["absent"] == [x, y]

    await t.tap("resume:go:")  # continue: the attendance is still there
    assert "22/24" in t.text()

    await t.type("/review")
    await t.tap("resume:new:")  # discard it, by choice, and start the review
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.flow == review_steps.REVIEW_FLOW
    assert count(bot, Meeting) == 0


async def test_every_pair_of_flows_asks_before_discarding(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    member = reviewable(bot)[0]
    # A new sign half entered in /review is not lost to /meeting, /commitments, /model.
    await t.type("/review")
    await t.tap("rev:m:", f":{member.id}")
    await t.tap("rev:o:", ":s")
    await t.tap("rev:g:", ":eth")
    await t.tap("rev:sg:", ":DD9")  # the sign is picked from the group's list
    for command in ("/meeting", "/commitments"):
        await t.type(command)
        assert "9. Vi phạm đạo đức gia đình" in t.text(), command
        d = draft_of(bot, "bt_bv")
        assert d is not None and d.state == review_steps.ReviewState.MEASURE
        await t.tap("resume:go:")
    await t.type("/model")
    await t.tap("mdl:new:")
    assert "Vi phạm đạo đức gia đình" in t.text()
    await t.tap("resume:go:")
    assert "biện pháp" in t.text()

    # A half-logged meeting is not lost to correcting another meeting, nor to a report step.
    await t.type("/cancel")
    x, _y = await absent_two(t, bot)
    await t.type("/report")
    await t.tap("rpt:v:")
    await t.tap("rpt:a:")
    assert "22/24" in t.text()
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.flow == m.FLOW and x in d.data["absent"]


# --- One answer per button; no edit into itself; plain alerts -------------------------------


async def test_everyone_else_progressing_answers_its_button_once(bot: BotKit) -> None:
    await bot.send("bt_bv", "/review")
    mark = len(bot.fake.calls)
    await bot.press("bt_bv", "Những người còn lại có tiến bộ")
    answers = calls(bot, "answerCallbackQuery", mark)
    assert len(answers) == 1
    assert answers[0]["text"] == "Đã ghi 24 đảng viên có tiến bộ."


async def test_a_refused_double_tap_does_not_edit_the_message_into_itself(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    await t.tap("mtg:attok:")  # to the guests
    mid, data = t.find(lambda _l, d: d.startswith("mtg:gok:"))
    first = bot.fake.user_presses(t.uid, mid, data)
    second = bot.fake.user_presses(t.uid, mid, data)
    mark = len(bot.fake.calls)
    await bot.driver.feed(first)
    await bot.driver.feed(second)
    edits = calls(bot, "editMessageText", mark)
    assert len(edits) == 1  # the second, refused tap leaves the message as it is
    assert len(calls(bot, "answerCallbackQuery", mark)) == 2  # each tap answered once


async def test_a_step_that_changes_nothing_sends_no_edit(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    mark = len(bot.fake.calls)
    await t.tap("mtg:all:")  # everyone is already present
    assert calls(bot, "editMessageText", mark) == []
    assert len(calls(bot, "answerCallbackQuery", mark)) == 1


async def test_a_stranger_pressing_a_button_gets_a_plain_text_alert(bot: BotKit) -> None:
    bot.fake.add_user(999_001, first_name="Lạ", language_code="vi")
    msg = bot.fake.last_message(bot.uid("bt_bv"))
    await bot.send("bt_bv", "/meeting")
    msg = bot.fake.last_message(bot.uid("bt_bv"))
    assert msg is not None
    data = next(d for _l, d in msg.buttons() if d)
    update = bot.fake.user_presses(bot.uid("bt_bv"), msg.message_id, data)
    update["callback_query"]["from"]["id"] = 999_001
    await bot.driver.feed(update)
    alert = bot.fake.callback_answers[-1]
    assert alert.show_alert and alert.text
    assert "<" not in alert.text and "Sổ tay Chi bộ" in alert.text


# --- Typed text: limits, letters, Unicode -----------------------------------------------------


async def test_a_guest_name_without_letters_is_refused_and_decomposed_text_is_composed(
    bot: BotKit,
) -> None:
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    await t.tap("mtg:attok:")
    await t.type("🙂🙂🙂")
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.data["guests"] == []
    assert "Đồng chí" in t.text() or "tên" in bot.fake.bot_messages(t.uid)[-2].text
    decomposed = "Nguye\u0302\u0303n Va\u0306n Tha\u0300nh"
    await t.type(decomposed)
    d = draft_of(bot, "bt_bv")
    assert d is not None and [g["name"] for g in d.data["guests"]] == ["Nguyễn Văn Thành"]
    assert not has_letters("🙂 123 !!") and has_letters("Ánh")


async def test_a_reopen_reason_too_long_is_refused_with_the_limit_not_cut(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await bot.send("bt_bv", "/review")
    await bot.press("bt_bv", "Những người còn lại có tiến bộ")
    await t.type("/report")
    await t.tap("rpt:v:")
    await t.tap("rpt:s:")
    await t.tap("rpt:ok:")
    await t.tap("rpt:r:")
    await t.type("x" * 501)
    assert "500" in t.text()
    with bot.db.transaction() as s:
        report = s.scalars(select(Report)).one()
        assert report.status is ReportStatus.SUBMITTED and report.reopen_reason is None
    await t.type("Sai số liệu tháng 10")
    with bot.db.transaction() as s:
        report = s.scalars(select(Report)).one()
        assert report.status is ReportStatus.REOPENED
        assert report.reopen_reason == "Sai số liệu tháng 10"


async def test_a_report_without_reviews_is_not_promised_submittable(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await t.type("/report")
    await t.tap("rpt:v:")
    await t.tap("rpt:s:")
    assert not any(d.startswith("rpt:ok:") for d in t.data())  # no "Yes, submit"
    assert any(d.startswith("rpt:a:") for d in t.data())  # the way forward: an assessment
    with bot.db.transaction() as s:
        assert s.scalars(select(Report)).first() is None


# --- Secret documents, everywhere --------------------------------------------------------------


def test_the_secret_mark_is_read_as_shown_on_screen() -> None:
    assert visible("M\u200bật") == "Mật" and visible("ＭẬＴ") == "MẬT"
    for marked in (
        "M\u200bật",
        "ＭẬＴ",
        "bien_ban_TOI\u2060MAT.pdf",
        "Tuyê\u0323\u0302t mâ\u0323t",
    ):
        assert is_marked_secret(marked), marked
    for innocent in ("Mật khẩu wifi", "Mặt trận Tổ quốc", "bảo mật"):
        assert not is_marked_secret(innocent), innocent


async def test_a_secret_document_outside_any_conversation_is_refused_and_deleted(
    bot: BotKit,
) -> None:
    uid = bot.uid("bt_bv")
    for name, caption in (("bien_ban_M\u200bật.pdf", None), ("bb.pdf", "ＭẬＴ — biên bản")):
        await bot.driver.send_document(uid, name, b"%PDF-1.4", caption=caption)
        user_msgs = [x for x in bot.fake.messages(uid, include_deleted=True) if not x.from_bot]
        assert user_msgs[-1].deleted
        assert SECRET_VI in bot.last_text("bt_bv").lower() or "mật" in bot.last_text("bt_bv")
    stranger = 999_002
    bot.fake.add_user(stranger, first_name="Lạ", language_code="vi")
    await bot.driver.send_document(stranger, "Tối mật.pdf", b"%PDF-1.4")
    assert [x for x in bot.fake.messages(stranger, include_deleted=True) if not x.from_bot][
        -1
    ].deleted


async def test_a_secret_minutes_file_in_the_meeting_is_refused_and_the_step_kept(
    bot: BotKit,
) -> None:
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    await t.tap("mtg:attok:")
    await t.tap("mtg:gok:")
    await bot.driver.send_document(t.uid, "bien ban.pdf", b"%PDF", caption="Tuyệt\u200b mật")
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.state == m.State.CONTENT and not d.data.get("minutes_file_id")


# --- The truth after a Telegram error ---------------------------------------------------------


async def test_a_saved_step_whose_reply_failed_is_said_saved_and_shown_again(
    bot: BotKit,
) -> None:
    bot.driver.raise_errors = False
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    x = members(bot)[0]
    bot.fake.fail_next("editMessageText", status=500)
    await t.tap("mtg:abs:", f":{x.id}")
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.data["absent"] == [x.id]  # the step was saved
    texts = [msg.text for msg in bot.fake.bot_messages(t.uid)[-2:]]
    assert "đã được lưu" in texts[0]
    assert "không có gì được lưu" not in " ".join(texts)
    assert "23/24" in texts[1]  # the current step again


async def test_a_slow_edit_that_times_out_after_saving_is_said_saved(bot: BotKit) -> None:
    bot.driver.raise_errors = False
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    await t.tap("mtg:attok:")
    await t.tap("mtg:gok:")
    await t.tap("mtg:cok:")
    bot.fake.fail_next("editMessageText", applied=True, timeout=True)
    await t.tap("mtg:save:")
    assert count(bot, Meeting) == 1
    texts = " ".join(msg.text for msg in bot.fake.bot_messages(t.uid)[-2:])
    assert "đã được lưu" in texts and "không có gì được lưu" not in texts
    assert draft_of(bot, "bt_bv") is None


async def test_a_read_only_answer_that_failed_never_speaks_of_saving(bot: BotKit) -> None:
    bot.driver.raise_errors = False
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    await t.tap("mtg:attok:")
    await t.tap("mtg:gok:")
    await t.tap("mtg:cok:")
    await t.tap("mtg:save:")
    bot.fake.fail_next("editMessageText", status=500)
    await t.tap("mtg:open:")
    last = t.text()
    assert "lưu" not in last and "Telegram" in last
    assert count(bot, Meeting) == 1


async def test_a_submitted_report_whose_reply_failed_is_said_submitted(bot: BotKit) -> None:
    bot.driver.raise_errors = False
    t = Taps(bot, "bt_bv")
    await bot.send("bt_bv", "/review")
    await bot.press("bt_bv", "Những người còn lại có tiến bộ")
    await t.type("/report")
    await t.tap("rpt:v:")
    await t.tap("rpt:s:")
    bot.fake.fail_next("editMessageText", status=502, description="Bad Gateway")
    await t.tap("rpt:ok:")
    with bot.db.transaction() as s:
        assert s.scalars(select(Report)).one().status is ReportStatus.SUBMITTED
    texts = " ".join(msg.text for msg in bot.fake.bot_messages(t.uid)[-2:])
    assert "đã được lưu" in texts and "không có gì được lưu" not in texts


async def test_a_failed_answer_to_a_button_is_not_an_error(bot: BotKit) -> None:
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    x = members(bot)[0]
    bot.fake.fail_next("answerCallbackQuery", status=500)
    await t.tap("mtg:abs:", f":{x.id}")  # raises if the failed answer reached the error handler
    assert "23/24" in t.text()


async def test_correcting_a_meeting_never_silently_replaces_another_conversation(
    bot: BotKit,
) -> None:
    t = Taps(bot, "bt_bv")
    await to_attendance(t)
    await t.tap("mtg:attok:")
    await t.tap("mtg:gok:")
    await t.tap("mtg:cok:")
    await t.tap("mtg:save:")
    saved_open = t.find(lambda _l, d: d.startswith("mtg:open:"))
    await bot.driver.press_data(t.uid, *saved_open)
    fix = t.find(lambda _l, d: d.startswith("mtg:fix:"))

    await to_attendance(t, "extraordinary")  # a second meeting, half logged
    x = members(bot)[0].id
    await t.tap("mtg:abs:", f":{x}")
    shown = await bot.driver.press_data(t.uid, *fix)  # "correct" on the saved one
    offer = shown[-1]
    assert "23/24" in offer.text
    assert any(d and d.startswith("resume:new:") for _l, d in offer.buttons())
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.data["absent"] == [x] and not d.data.get("meeting_id")

    data = next(d for _l, d in offer.buttons() if d and d.startswith("resume:new:"))
    await bot.driver.press_data(t.uid, offer.message_id, data)  # by choice: the correction
    d = draft_of(bot, "bt_bv")
    assert d is not None and d.data.get("meeting_id") and d.state == m.State.CONFIRM
    await t.type("/review")  # the correction is not lost to /review either
    assert any(d.startswith("resume:go:") for d in t.data())
