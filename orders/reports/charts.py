"""The staff dashboard's revenue chart: SVG bar layout, pure arithmetic (no queries)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from orders.reports.dashboard import DaySales

# Chart geometry (SVG user units); the SVG scales to its container.
CHART_WIDTH = 720
CHART_HEIGHT = 220
CHART_TOP = 10
CHART_BOTTOM = 30


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    day: date
    orders: int
    revenue: Decimal
    show_label: bool
    label_x: float
    label_anchor: str


def chart_frame() -> dict:
    """Return the chart's size and baseline for the template."""
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "baseline": CHART_HEIGHT - CHART_BOTTOM}


def revenue_bars(sales: list[DaySales]) -> list[Bar]:
    """Lay out ``sales`` as SVG bars scaled to the best day (pure arithmetic, no queries)."""
    if not sales:
        return []
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    slot = CHART_WIDTH / len(sales)
    best = max((s.revenue for s in sales), default=Decimal("0")) or Decimal("1")
    bars = []
    for index, s in enumerate(sales):
        height = float(s.revenue / best) * plot_height if s.revenue > 0 else 0.0
        bars.append(
            Bar(
                x=round(index * slot + slot * 0.15, 2),
                y=round(CHART_TOP + plot_height - height, 2),
                width=round(slot * 0.7, 2),
                height=round(height, 2),
                label=s.day.strftime("%d %b"),
                day=s.day,
                orders=s.orders,
                revenue=s.revenue,
                show_label=index % 5 == 0 or index == len(sales) - 1,
                # The last label ends at the chart's right edge instead of overflowing it.
                label_x=round((index + 1) * slot if index == len(sales) - 1 else index * slot, 2),
                label_anchor="end" if index == len(sales) - 1 else "start",
            )
        )
    return bars
