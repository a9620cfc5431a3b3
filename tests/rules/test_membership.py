"""Where and as what a member counts in a month: the first-day rule."""

from __future__ import annotations

from datetime import date

from domain.rules.membership import counting_day, covers


def test_a_member_transferred_on_15_june_counts_in_the_old_cell_through_june() -> None:
    old = (None, date(2026, 6, 15))  # cell A until the transfer (exclusive)
    new = (date(2026, 6, 15), None)  # cell B from it
    for month, where in ((5, "A"), (6, "A"), (7, "B"), (8, "B")):
        day = counting_day(2026, month)
        assert covers(*old, day) is (where == "A")
        assert covers(*new, day) is (where == "B")
    # A transfer dated on the 1st counts from that month.
    assert covers(date(2026, 7, 1), None, counting_day(2026, 7))
