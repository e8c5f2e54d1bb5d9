"""A log-log line chart as a standalone SVG file: how a bench's figures grow with its size.

No plotting library is a dependency of the project; a chart of a few series over a few sizes is
short enough to write directly. :func:`chart` takes the x values and named series and returns
the SVG text; both axes are logarithmic, with a tick at every power of ten in range (and the
plotted values labelled at each point).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

WIDTH, HEIGHT = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 70, 170, 40, 50
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")


def chart(
    title: str,
    x_label: str,
    y_label: str,
    xs: Sequence[float],
    series: Mapping[str, Sequence[float]],
    unit: str,
) -> str:
    """The SVG of ``series`` (name → one value per x) against ``xs``, log-log."""
    values = [v for line in series.values() for v in line]
    x_low, x_high = _decades(min(xs), max(xs))
    y_low, y_high = _decades(min(values), max(values))

    def px(x: float) -> float:
        return LEFT + (math.log10(x) - x_low) / (x_high - x_low) * (WIDTH - LEFT - RIGHT)

    def py(y: float) -> float:
        return (
            HEIGHT - BOTTOM - (math.log10(y) - y_low) / (y_high - y_low) * (HEIGHT - TOP - BOTTOM)
        )

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="22" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for power in range(x_low, x_high + 1):
        x = px(10**power)
        parts.append(_line(x, TOP, x, HEIGHT - BOTTOM, "#ddd"))
        parts.append(_text(x, HEIGHT - BOTTOM + 16, f"{10**power:,}", "middle"))
    for power in range(y_low, y_high + 1):
        y = py(10**power)
        parts.append(_line(LEFT, y, WIDTH - RIGHT, y, "#ddd"))
        parts.append(_text(LEFT - 6, y + 4, f"{10**power:g} {unit}", "end"))
    parts.append(_text((LEFT + WIDTH - RIGHT) / 2, HEIGHT - 12, x_label, "middle"))
    parts.append(
        f'<text transform="translate(16 {(TOP + HEIGHT - BOTTOM) / 2}) rotate(-90)" '
        f'text-anchor="middle">{escape(y_label)}</text>'
    )
    for index, (name, line) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, line, strict=True))
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for x, y in zip(xs, line, strict=True):
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>')
            parts.append(_text(px(x) + 5, py(y) - 6, f"{y:.3g}", "start", colour))
        legend_y = TOP + 10 + index * 18
        parts.append(
            _line(WIDTH - RIGHT + 12, legend_y - 4, WIDTH - RIGHT + 32, legend_y - 4, colour)
        )
        parts.append(_text(WIDTH - RIGHT + 38, legend_y, name, "start"))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _decades(low: float, high: float) -> tuple[int, int]:
    """The powers of ten enclosing [low, high] (at least one decade apart)."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    return first, max(last, first + 1)


def _line(x1: float, y1: float, x2: float, y2: float, colour: str) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}"/>'


def _text(x: float, y: float, text: str, anchor: str, colour: str = "black") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{colour}">'
        f"{escape(text)}</text>"
    )
