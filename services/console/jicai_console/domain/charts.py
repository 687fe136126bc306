"""Bar charts as inline SVG, drawn on the server: the pages need no JavaScript and download nothing.

Hand-written rather than a plotting library: two chart shapes (grouped bars per week, one bar per period
with a target line) take some fifty lines, where matplotlib or pygal would add a large dependency for them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

Number = int | float | Decimal


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[Number]
    colour: str


def bar_chart(
    categories: Sequence[str], series: Sequence[Series], *, title: str, width: int = 640, height: int = 220,
    y_max: Number | None = None, reference: tuple[Number, str] | None = None, percent: bool = False,
) -> str:
    """Grouped vertical bars, one group per category; ``reference`` draws a labelled horizontal line (a target)."""
    left, right, top, bottom = 44, 10, 24, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([float(v) for s in series for v in s.values] + [float(reference[0]) if reference else 0.0, 0.0])
    top_value = float(y_max) if y_max is not None else (peak or 1.0)
    top_value = max(top_value, peak) or 1.0

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / top_value

    def label(value: float) -> str:
        return f"{value * 100:.0f}%" if percent else (f"{value:.0f}" if value == int(value) else f"{value:.2f}")

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label={quoteattr(title)} class="chart">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#888"/>',
    ]
    for tick in (0.0, top_value / 2, top_value):
        parts.append(f'<text x="{left - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="10">{escape(label(tick))}</text>')
        parts.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{left + plot_w}" y2="{y(tick):.1f}" stroke="#eee"/>')
    if categories:
        group_w = plot_w / len(categories)
        bar_w = max(1.0, group_w * 0.8 / max(1, len(series)))
        for i, category in enumerate(categories):
            x0 = left + i * group_w + group_w * 0.1
            for j, s in enumerate(series):
                value = float(s.values[i])
                bar_h = top + plot_h - y(value)
                parts.append(
                    f'<rect x="{x0 + j * bar_w:.1f}" y="{y(value):.1f}" width="{bar_w - 1:.1f}" height="{bar_h:.1f}" fill={quoteattr(s.colour)}>'
                    f"<title>{escape(f'{category} {s.label}: {label(value)}')}</title></rect>"
                )
            parts.append(
                f'<text x="{left + (i + 0.5) * group_w:.1f}" y="{top + plot_h + 14}" text-anchor="middle" font-size="10">{escape(category)}</text>'
            )
    if reference:
        ry = y(float(reference[0]))
        parts.append(f'<line x1="{left}" y1="{ry:.1f}" x2="{left + plot_w}" y2="{ry:.1f}" stroke="#c00" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{left + plot_w}" y="{ry - 3:.1f}" text-anchor="end" font-size="10" fill="#c00">{escape(reference[1])}</text>')
    for j, s in enumerate(series):
        lx = left + j * 110
        parts.append(f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill={quoteattr(s.colour)}/>')
        parts.append(f'<text x="{lx + 14}" y="{height - 5}" font-size="10">{escape(s.label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


TIMELINE_MARKS = (  # field, colour, catalog key
    ("received_on", "#495057", "received_on"),
    ("deadline", "#1c7ed6", "deadline"),
    ("warned_on", "#f08c00", "warned_on"),
    ("withheld_from", "#c92a2a", "withheld_from"),
    ("paid_on", "#2b8a3e", "paid"),
)


def invoice_timeline(invoices: Sequence[dict[str, object]], paid_on: dict[str, str], *, width: int = 760,
                     labels: dict[str, str] | None = None) -> str:
    """One row per invoice on a shared date axis: received, due, warned, withheld and (last) paid, as dots."""

    def day(value: object) -> date | None:
        return date.fromisoformat(str(value)) if value else None

    rows = [(str(i["invoice_id"]), {f: day(paid_on.get(str(i["invoice_id"])) if f == "paid_on" else i.get(f)) for f, _, _ in TIMELINE_MARKS})
            for i in invoices]
    days = [d for _, marks in rows for d in marks.values() if d]
    if not days:
        return ""
    first, last = min(days), max(days)
    span = max(1, (last - first).days)
    left, right, row_h, top = 130, 16, 22, 22
    height = top + row_h * len(rows) + 34
    plot_w = width - left - right

    def x(d: date) -> float:
        return left + plot_w * (d - first).days / span

    names = labels or {}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'class="chart timeline"><title>invoice timeline</title>',
             f'<text x="{left}" y="14" font-size="10">{first.isoformat()}</text>',
             f'<text x="{left + plot_w}" y="14" font-size="10" text-anchor="end">{last.isoformat()}</text>']
    for n, (invoice_id, marks) in enumerate(rows):
        y = top + row_h * n + row_h / 2
        parts.append(f'<text x="{left - 6}" y="{y + 4}" font-size="10" text-anchor="end">{escape(invoice_id)}</text>')
        present = [d for d in marks.values() if d]
        parts.append(f'<line x1="{x(min(present)):.1f}" y1="{y}" x2="{x(max(present)):.1f}" y2="{y}" stroke="#ced4da" stroke-width="2"/>')
        for field, colour, key in TIMELINE_MARKS:
            d = marks[field]
            if d:
                parts.append(f'<circle cx="{x(d):.1f}" cy="{y}" r="5" fill="{colour}"><title>{escape(names.get(key, key))} {d.isoformat()}</title></circle>')
    for j, (_, colour, key) in enumerate(TIMELINE_MARKS):
        lx = left + j * 110
        parts.append(f'<circle cx="{lx + 5}" cy="{height - 9}" r="5" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14}" y="{height - 5}" font-size="10">{escape(names.get(key, key))}</text>')
    parts.append("</svg>")
    return "".join(parts)
