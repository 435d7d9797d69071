#!/usr/bin/env python3
"""Draws the soak's CSV (twostep-loadgen soak) as one SVG of stacked panels sharing the
time axis: throughput and errors, latency percentiles, server RSS, data-dir size, and the
sweeper's work per sample. Python standard library only.

Usage: scripts/soak_plot.py SOAK.csv OUT.svg [TITLE]
"""

import csv
import sys
from html import escape

WIDTH = 860
PANEL_H = 150
GAP = 46
LEFT = 70
RIGHT = 150
TOP = 56
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"]


def nice_max(v):
    """A round axis maximum at or above v."""
    if v <= 0:
        return 1.0
    mag = 10 ** (len(str(int(v))) - 1) if v >= 1 else 0.1
    for step in (1, 2, 2.5, 5, 10):
        if step * mag >= v:
            return step * mag
    return 10 * mag


def panel(out, index, title, xs, series, unit, ymax=None):
    """One panel: series is [(label, values)], drawn as lines with points."""
    top = TOP + index * (PANEL_H + GAP)
    plot_w = WIDTH - LEFT - RIGHT
    all_values = [v for _, vals in series for v in vals]
    top_value = ymax if ymax is not None else nice_max(max(all_values + [0]) * 1.1)
    xmin, xmax = min(xs), max(xs)
    span = (xmax - xmin) or 1

    def px(x):
        return LEFT + (x - xmin) / span * plot_w

    def py(y):
        return top + PANEL_H - (y / top_value) * PANEL_H

    out.append(f'<text x="{LEFT}" y="{top - 8}" class="title">{escape(title)}</text>')
    out.append(
        f'<rect x="{LEFT}" y="{top}" width="{plot_w}" height="{PANEL_H}" class="frame"/>'
    )
    for i in range(5):
        y = top_value * i / 4
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{py(y):.1f}" y2="{py(y):.1f}" class="grid"/>')
        label = f"{y:g}" if y < 1000 else f"{y:,.0f}"
        out.append(f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" class="ylabel">{label}</text>')
    out.append(
        f'<text x="14" y="{top + PANEL_H / 2:.1f}" class="unit" '
        f'transform="rotate(-90 14 {top + PANEL_H / 2:.1f})">{escape(unit)}</text>'
    )
    for x in xs:
        label = f"{x:.0f}" if abs(x - round(x)) < 0.05 else f"{x:.1f}"
        out.append(f'<text x="{px(x):.1f}" y="{top + PANEL_H + 14}" class="xlabel">{label}</text>')
    for n, (label, vals) in enumerate(series):
        color = COLORS[n % len(COLORS)]
        pts = " ".join(f"{px(x):.1f},{py(min(v, top_value)):.1f}" for x, v in zip(xs, vals))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, v in zip(xs, vals):
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(min(v, top_value)):.1f}" r="2.5" fill="{color}"/>')
        ly = top + 14 + n * 16
        out.append(f'<line x1="{LEFT + plot_w + 10}" x2="{LEFT + plot_w + 28}" y1="{ly - 4}" y2="{ly - 4}" stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{LEFT + plot_w + 32}" y="{ly}" class="legend">{escape(label)}</text>')


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    with open(sys.argv[1], newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit("no rows in " + sys.argv[1])
    title = sys.argv[3] if len(sys.argv) > 3 else "twostep-server soak"

    def col(name):
        return [float(r[name]) for r in rows]

    xs = [float(r["elapsed_s"]) / 60 for r in rows]
    sweeper = col("sweeper_removed")
    removed = [b - a for a, b in zip([0.0] + sweeper[:-1], sweeper)]
    scanned_total = col("sweeper_scanned")
    scanned = [b - a for a, b in zip([0.0] + scanned_total[:-1], scanned_total)]
    panels = [
        ("Throughput, and errors per sample", [("ops/s", col("ops_per_s")), ("errors", col("errors")), ("not sent", [a + b for a, b in zip(col("skipped"), col("dropped"))])], "per second"),
        ("Request latency", [("p50", col("p50_ms")), ("p99", col("p99_ms")), ("verify p99", col("verify_p99_ms")), ("sign-in p99", col("signin_p99_ms"))], "ms"),
        ("Server resident memory (VmRSS)", [("RSS", col("rss_mib"))], "MiB"),
        ("Data directory", [("size", col("datadir_mib")), ("on disk", col("datadir_disk_mib"))], "MiB"),
        ("Audit records written (never expire)", [("audit", [v / 1000 for v in col("audit_records")])], "thousands"),
        ("Sweeper, per sample", [("removed", removed), ("examined", scanned)], "records"),
        ("Machine load average (1 min, 2 cores shared)", [("load", col("load1"))], "load"),
    ]
    height = TOP + len(panels) * (PANEL_H + GAP) + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif">',
        "<style>.title{font-size:13px;font-weight:bold}.ylabel{font-size:10px;text-anchor:end}"
        ".xlabel{font-size:10px;text-anchor:middle}.unit{font-size:11px;text-anchor:middle}"
        ".legend{font-size:11px}.frame{fill:none;stroke:#444}.grid{stroke:#ddd}</style>",
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="{LEFT}" y="18" font-size="15" font-weight="bold">{escape(title)} (x: minutes)</text>',
    ]
    for i, (t, series, unit) in enumerate(panels):
        panel(out, i, t, xs, series, unit)
    out.append("</svg>")
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
