"""Callback data: one declaration per button family gives the data, its pattern and its parser;
forged, malformed and oversized data is a stale button, never a traceback."""

from __future__ import annotations

import re

import pytest

from domain.errors import StaleAction
from handlers import common, enterprises, flows, meetings, reminders, reports, reviews
from handlers import summary as summary_screens
from handlers.callbacks import ID_MAX, Family
from handlers.candidates import buttons as candidates_buttons
from services import scheduler as sch
from tests.auxil.botkit import BotKit


def families() -> list[Family]:
    found = []
    for module in (
        meetings.buttons,
        reviews.buttons,
        reports,
        flows,
        common,
        reminders,
        sch,
        candidates_buttons,
        enterprises,
        summary_screens,
    ):
        # A family used by two modules (the steering review button of the reminders and of
        # /enterprises) is one declaration: counted once.
        found += [
            v
            for v in vars(module).values()
            if isinstance(v, Family) and not any(v is f for f in found)
        ]
    return found


def sample(family: Family) -> tuple[object, ...]:
    """One valid value per field, taken from the field's own pattern."""
    values: list[object] = []
    for field in family.fields:
        for candidate in ("7", "20261116", "2026", "11", "2026-Q4", "remedy_quarterly", "p"):
            if re.fullmatch(field.regex, candidate):
                values.append(field.read(candidate))
                break
        else:
            choices = re.findall(r"[\w-]+", field.regex)
            values.append(field.read(choices[0]))
    return tuple(values)


@pytest.mark.parametrize("family", families(), ids=lambda f: f.prefix)
def test_every_family_reads_back_what_it_writes(family: Family) -> None:
    values = sample(family)
    data = family.data(*values)
    assert re.fullmatch(family.pattern, data)
    assert family.parse(data) == values
    assert len(data.encode()) <= 64


def test_no_two_families_share_a_pattern() -> None:
    patterns = [f.pattern for f in families()]
    assert len(patterns) == len(set(patterns))


@pytest.mark.parametrize(
    "data",
    [
        "mtg:abs:1:" + "9" * 40,  # overflows a 32-bit id (and SQLite's 64-bit integer)
        f"mtg:abs:1:{ID_MAX + 1}",
        "mtg:abs:1:-5",
        "mtg:abs:1: 5",
        "mtg:abs:1:5:6",
        "mtg:kind:1:party",
        "rev:mo:1:2026:13",
        "rpt:v:1:remedy_quarterly:2026-Q9",
        "",
    ],
)
def test_forged_data_is_a_stale_button(data: str) -> None:
    family = next((f for f in families() if data.startswith(f.prefix + ":")), meetings.MTG_ABS)
    with pytest.raises(StaleAction):
        family.parse(data)


async def test_a_forged_oversized_id_is_answered_without_a_traceback(bot: BotKit) -> None:
    await bot.send("bt_bv", "/meeting")
    msg = bot.fake.last_message(bot.uid("bt_bv"))
    assert msg is not None
    update = bot.fake.user_presses(
        bot.uid("bt_bv"), msg.message_id, next(d for _l, d in msg.buttons() if d)
    )
    update["callback_query"]["data"] = "mtg:abs:1:" + "9" * 40
    await bot.driver.feed(update)  # raises if a handler failed
    assert bot.fake.callback_answers[-1].text  # "no longer active"
    assert bot.fake.unanswered_callback_queries() == []
