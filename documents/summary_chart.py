"""The summary's chart: regular meetings held and attendance month by month, as a PNG."""

from __future__ import annotations

from io import BytesIO

from domain.i18n import Translator
from storage.summary import (
    ChartData,
)

# matplotlib is imported where a chart is drawn: it adds about 0.5 s to the start of the bot and
# of every CLI command otherwise (python -X importtime).

_PALETTE = ["#1f4e79", "#c00000", "#548235", "#bf8f00", "#7030a0", "#2e75b6", "#843c0c", "#595959"]


def to_png(chart: ChartData, t: Translator, title: str) -> bytes:
    """Meetings held and attendance per month of the year, by organization type (Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    _ = t.gettext
    fig = Figure(figsize=(10, 7.2), dpi=100, layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1.1, 1])
    months = chart.months
    labels = [f"{m:02d}" for m in range(1, 13)]
    x = list(range(1, 13))
    base = [0] * len(months)
    due_total = [0] * len(months)
    for i, s in enumerate(chart.series):
        color = _PALETTE[i % len(_PALETTE)]
        top.bar(months, s.held, bottom=base, color=color, width=0.65, label=s.name(t.locale))
        base = [b + v for b, v in zip(base, s.held, strict=True)]
        due_total = [d + v for d, v in zip(due_total, s.due, strict=True)]
        rates = s.rates()
        pts = [(m, r * 100) for m, r in zip(months, rates, strict=True) if r is not None]
        if pts:
            bottom.plot(
                [p[0] for p in pts],
                [p[1] for p in pts],
                marker="o",
                markersize=4,
                linewidth=1.6,
                color=color,
                label=s.name(t.locale),
            )
    if months:
        top.step(
            [m - 0.5 for m in months] + [months[-1] + 0.5],
            due_total + due_total[-1:],
            where="post",
            color="#333333",
            linewidth=1.2,
            linestyle="--",
            label=_("cells expected to meet"),
        )
        total_p = [sum(s.present[i] for s in chart.series) for i in range(len(months))]
        total_r = [sum(s.required[i] for s in chart.series) for i in range(len(months))]
        pts = [(m, p / r * 100) for m, p, r in zip(months, total_p, total_r, strict=True) if r]
        if pts:
            bottom.plot(
                [p[0] for p in pts],
                [p[1] for p in pts],
                color="black",
                linewidth=2.6,
                label=_("all types"),
            )
    top.set_title(_("Cells that held their regular meeting, per month"), fontsize=11, loc="left")
    top.set_ylabel(_("cells"))
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    top.grid(axis="y", alpha=0.3)
    bottom.set_title(_("Attendance at regular meetings"), fontsize=11, loc="left")
    bottom.set_ylabel(_("attendance"))
    bottom.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    bottom.set_ylim(0, 105)
    bottom.grid(axis="y", alpha=0.3)
    bottom.set_xticks(x, labels)
    bottom.set_xlim(0.4, 12.6)
    bottom.set_xlabel(_("month of {year}").format(year=chart.year))
    if not chart.series or not any(any(s.required) for s in chart.series):
        bottom.text(6.5, 50, _("no attendance recorded"), ha="center", va="center", color="#777")
    handles, names = top.get_legend_handles_labels()
    for handle, name in zip(*bottom.get_legend_handles_labels(), strict=True):
        if name not in names:
            handles.append(handle)
            names.append(name)
    fig.legend(
        handles,
        names,
        loc="outside lower center",
        ncols=min(3, max(1, len(names))),
        fontsize=9,
        frameon=False,
    )
    fig.suptitle(title, fontsize=13, fontweight="bold")
    buf = BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
