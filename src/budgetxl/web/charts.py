"""Charts drawn on the server as SVG (no script, no inline style: CSP-clean).
Amounts stay Decimal; only bar lengths in pixels are integers."""

from __future__ import annotations

from decimal import Decimal

from markupsafe import Markup, escape

from ..money import fmt

COLOURS = {"未报送": "#b0b0b0", "无法读取": "#7a4fa0", "有错误": "#c62828", "有警告": "#ef8f00", "通过": "#2e7d32"}


def progress(counts: dict[str, int], width: int = 640) -> Markup:
    """One stacked bar: how many units are in each state, with a legend."""
    total = sum(counts.values())
    parts, x = [], 0
    for state, n in counts.items():
        if not n:
            continue
        w = width * n // total if total else 0
        parts.append(f'<rect x="{x}" y="0" width="{max(w, 1)}" height="28" fill="{COLOURS[state]}"><title>{escape(state)} {n}</title></rect>')
        x += w
    legend = []
    for i, (state, n) in enumerate(counts.items()):
        lx = i * (width // len(counts))
        legend.append(f'<rect x="{lx}" y="40" width="14" height="14" fill="{COLOURS[state]}"/>'
                      f'<text x="{lx + 20}" y="52" font-size="14">{escape(state)} {n}</text>')
    return Markup(
        f'<svg class="chart" role="img" aria-label="报送进度" viewBox="0 0 {width} 64" width="{width}" height="64" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}{"".join(legend)}</svg>'
    )


def bars(items: list[tuple[str, Decimal | None]], unit: str, width: int = 640, limit: int = 15) -> Markup:
    """Horizontal bars, largest first (the top ``limit``)."""
    rows = sorted(((label, v) for label, v in items if isinstance(v, Decimal) and v > 0), key=lambda r: -r[1])[:limit]
    if not rows:
        return Markup('<p class="muted">暂无可汇总的数据。</p>')
    top = rows[0][1]
    label_w, bar_w, h = 260, width - 260 - 110, 22
    out = []
    for i, (label, value) in enumerate(rows):
        y = i * (h + 6)
        w = int(Decimal(bar_w) * value / top)
        out.append(
            f'<text x="{label_w - 8}" y="{y + 16}" font-size="13" text-anchor="end">{escape(label[:20])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{max(w, 1)}" height="{h}" fill="#1565c0"><title>{escape(label)} {fmt(value)} {unit}</title></rect>'
            f'<text x="{label_w + w + 6}" y="{y + 16}" font-size="13">{fmt(value)}</text>'
        )
    height = len(rows) * (h + 6)
    return Markup(
        f'<svg class="chart" role="img" aria-label="支出（{unit}）" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(out)}</svg>'
    )
