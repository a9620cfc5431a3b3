"""The chart: meetings held and attendance per month of a year, by organization type."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from domain.rules.attendance import attendance_rate
from domain.rules.periods import Period
from storage import figures
from storage.summary.cells import active_in, elapsed_months, month_bounds, org_info
from storage.summary.model import Summary

# --- The chart ---------------------------------------------------------------------------------


@dataclass
class Series:
    """One organization type's line on the chart: per month of the year."""

    type_code: str
    name_vi: str
    name_en: str
    held: list[int]  # cells with a regular meeting
    due: list[int]  # cells expected to meet
    present: list[int]
    required: list[int]

    def name(self, locale: str) -> str:
        """The name in ``locale``."""
        return self.name_en if locale == "en" else self.name_vi

    def rates(self) -> list[float | None]:
        """Attendance rate per month."""
        return [attendance_rate(p, r) for p, r in zip(self.present, self.required, strict=True)]


@dataclass
class ChartData:
    """Meetings held and attendance per month of a year, by organization type."""

    year: int
    months: list[int]  # months of the year that have started
    series: list[Series]


def chart_data(session: Session, summary: Summary) -> ChartData:
    """The month-by-month series of the summary's cells over the summary's year."""
    year = summary.period.year
    period = Period("year", year)
    upto = min(period.end, summary.today)
    months = [m for y, m in elapsed_months(period, summary.today)]
    cell_ids = [c.id for c in summary.cells]
    found = figures.monthly_figures(session, cell_ids, period.start, upto)
    orgs = org_info(session, cell_ids)
    series: list[Series] = []
    for group in summary.by_type:
        if not group.cell_ids:
            continue
        s = Series(
            group.code or "-",
            group.name_vi,
            group.name_en,
            [0] * len(months),
            [0] * len(months),
            [0] * len(months),
            [0] * len(months),
        )
        for cid in group.cell_ids:
            for i, m in enumerate(months):
                if not active_in(orgs[cid], *month_bounds(year, m)):
                    continue
                s.due[i] += 1
                month = found[cid].get((year, m))
                if month is not None:
                    s.held[i] += int(month.regular_held)
                    s.present[i] += month.present
                    s.required[i] += month.required
        series.append(s)
    return ChartData(year, months, series)
