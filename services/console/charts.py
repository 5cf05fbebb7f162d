"""Charts drawn on the server as SVG: no script, so they work with the strict CSP and without JavaScript.

Pure functions: data and already translated labels in, markup out. Every value from data is escaped; a chart is
``role="img"`` with an ``aria-label`` and a ``<title>``, and the page shows the same figures in a table or list
beside it (a chart alone says nothing to a screen reader user). Colours come from console.css through classes;
the presentation attributes are the fallback when the stylesheet is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

# status of a step -> (class, fallback fill): console.css colours them (--ok, --bad, --wash).
STEP_COLOURS: dict[str, tuple[str, str]] = {
    "shown": ("step-shown", "#1d6b35"),
    "not_shown": ("step-not-shown", "#a4161a"),
    "not_measurable": ("step-not-measurable", "#f3f5f7"),
}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def nine_steps(steps: Sequence[Mapping[str, Any]], label: str, status_names: Mapping[str, str]) -> Markup:
    """The nine steps as numbered circles on a path, each filled by its status (``shown``, ``not_shown``,
    ``not_measurable``); ``status_names`` translates a status for each circle's tooltip."""
    gap, radius, top = 64, 20, 34
    width = gap * max(len(steps), 1) + 16
    first = 8 + gap // 2
    last = first + gap * max(len(steps) - 1, 0)
    parts = [
        Markup('<svg class="chart nine-steps" role="img" aria-label="{label}" viewBox="0 0 {w} 70" width="{w}" '
               'height="70" xmlns="http://www.w3.org/2000/svg"><title>{label}</title>').format(label=label, w=width),
        Markup('<line class="step-path" x1="{}" y1="{}" x2="{}" y2="{}" stroke="#8a94a3" stroke-width="4"/>').format(
            first, top, last, top),
    ]
    for index, step in enumerate(steps):
        status = str(step.get("status", ""))
        css, fill = STEP_COLOURS.get(status, STEP_COLOURS["not_measurable"])
        number = str(step.get("step", index + 1))
        tooltip = f"{number}. {step.get('title', '')}: {status_names.get(status, status)}"
        parts.append(Markup(
            '<g class="step {css}"><title>{tooltip}</title>'
            '<circle cx="{x}" cy="{y}" r="{r}" fill="{fill}" stroke="#1b1f24" stroke-width="2"{dashed}/>'
            '<text x="{x}" y="{ty}" text-anchor="middle" font-size="16" font-weight="700">{number}</text></g>'
        ).format(css=css, tooltip=tooltip, x=first + gap * index, y=top, r=radius, fill=fill, ty=top + 6,
                 number=number,
                 # a step the data cannot show is drawn dashed, so it differs by more than colour
                 dashed=Markup("") if status in ("shown", "not_shown") else Markup(' stroke-dasharray="4 3"')))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def bar_chart(bars: Sequence[tuple[str, float]], label: str) -> Markup:
    """Horizontal bars, one per (label, value), longest for the largest value; the value is written beside it."""
    row, label_width, bar_width = 28, 270, 300  # 270: the longest label ("rondgemaakt met een opbrengst") fits
    height = row * max(len(bars), 1) + 8
    width = label_width + bar_width + 60
    largest = max((value for _, value in bars), default=0) or 1
    parts = [Markup('<svg class="chart bars" role="img" aria-label="{label}" viewBox="0 0 {w} {h}" width="{w}" '
                    'height="{h}" xmlns="http://www.w3.org/2000/svg"><title>{label}</title>').format(
        label=label, w=width, h=height)]
    for index, (name, value) in enumerate(bars):
        y = 4 + row * index
        length = round(bar_width * max(value, 0) / largest)
        parts.append(Markup(
            '<text x="{lx}" y="{ty}" text-anchor="end" font-size="14">{name}</text>'
            '<rect class="bar" x="{bx}" y="{by}" width="{length}" height="{bh}" fill="#0b5cad"/>'
            '<text x="{vx}" y="{ty}" font-size="14">{value}</text>'
        ).format(lx=label_width - 8, ty=y + 18, name=name, bx=label_width, by=y + 4, length=length, bh=row - 8,
                 vx=label_width + length + 6, value=_number(value)))
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
