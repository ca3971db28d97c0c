#!/usr/bin/env python3
"""Turns the JSON reports bench/run.sh collected into the table of docs/performance.md
(markdown on stdout) and two SVG plots (throughput and p99 latency against offered load).

usage: bench/table.py RESULTS_DIR
"""
import json
import pathlib
import re
import sys


def load(d, name):
    p = d / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def fmt(x, unit=""):
    if x is None:
        return "n/a"
    if isinstance(x, float) and x < 100:
        return f"{x:.2f}{unit}"
    return f"{x:,.0f}{unit}"


def rows(d):
    raw_pp, pp = load(d, "raw_pingpong"), load(d, "pingpong")
    raw_st, st = load(d, "raw_stream"), load(d, "stream")
    raw_20k, p20k = load(d, "raw_paced_20000"), load(d, "paced_20000")
    group, idle = load(d, "group"), load(d, "idle")
    login, hashrate = load(d, "login"), load(d, "hashrate")
    cluster = load(d, "cluster_stream")
    rb = (d / "redis_benchmark.txt").read_text() if (d / "redis_benchmark.txt").exists() else ""
    m = re.search(r"([\d.]+) requests per second", rb)
    redis_rps = float(m.group(1)) if m else None

    def ratio(a, b):
        return a / b if a is not None and b else None

    def get(r, *path):
        for k in path:
            if r is None:
                return None
            r = r.get(k)
        return r

    out = []
    v, c = get(pp, "msgs_per_s"), get(raw_pp, "msgs_per_s")
    out.append(("pingpong, 50 pairs", f"{fmt(v)} msgs/s", f"{fmt(c)} msgs/s", ratio(v, c), ">= 0.70", lambda r: r >= 0.70))
    v, c = get(st, "msgs_per_s"), get(raw_st, "msgs_per_s")
    out.append(("stream, 50 pairs, 64 in flight", f"{fmt(v)} msgs/s", f"{fmt(c)} msgs/s", ratio(v, c), ">= 0.10",
                lambda r: r >= 0.10))
    v = get(group, "deliveries_per_s")
    out.append(("group, 1 x 100 online, window 8", f"{fmt(v)} deliveries/s", f"{fmt(c)} msgs/s (raw stream)",
                ratio(v, c), ">= 0.25", lambda r: r >= 0.25))
    v, c = get(p20k, "latency_us", "p99"), get(raw_20k, "latency_us", "p99")
    out.append(("p99 latency at a paced 20k msgs/s, 50 pairs", f"{fmt(v)} us", f"{fmt(c)} us", ratio(v, c),
                "<= 1.5", lambda r: r <= 1.5))
    v = get(idle, "rss_growth_per_connection_bytes")
    n, miss = get(idle, "connections"), get(idle, "missing_pongs")
    out.append((f"idle, {fmt(n)} logged-in connections", f"{fmt(v)} B/connection, {fmt(miss)} pongs missing", "-",
                v, "<= 2048 B, 0 missing", lambda r: r <= 2048 and miss == 0))
    v, c = get(login, "logins_per_s"), get(hashrate, "verifications_per_s")
    out.append(("login storm, 200 concurrent", f"{fmt(v)} logins/s", f"{fmt(c)} Argon2id verifications/s",
                ratio(v, c), ">= 0.80", lambda r: r >= 0.80))
    v = get(login, "latency_us", "p99")
    out.append(("chat p99 during the login storm", f"{fmt(v)} us", "-", v / 1000 if v is not None else None,
                "<= 5 ms", lambda r: r <= 5))
    v = get(cluster, "msgs_per_s")
    out.append(("cross-node stream through Redis, 2 nodes", f"{fmt(v)} msgs/s",
                f"{fmt(redis_rps)} PUBLISH/s (redis-benchmark)", ratio(v, redis_rps), ">= 2.0", lambda r: r >= 2.0))
    return out


def table(d):
    lines = ["| scenario | chat_server | reference | ratio | target | met |", "|---|---|---|---|---|---|"]
    for name, ours, ref, r, target, ok in rows(d):
        met = "n/a" if r is None else ("yes" if ok(r) else "**no**")
        lines.append(f"| {name} | {ours} | {ref} | {fmt(r)} | {target} | {met} |")
    return "\n".join(lines)


def curve(d, prefix):
    points = []
    for p in sorted(d.glob(f"{prefix}_*.json"), key=lambda p: int(p.stem.rsplit("_", 1)[1])):
        r = json.loads(p.read_text())
        points.append((r["rate"], r["msgs_per_s"], r["latency_us"]["p99"]))
    return points


def svg_plot(path, title, ylabel, series, y_index):
    """A small line chart: x = offered msgs/s, one polyline per series."""
    w, h, left, bottom, top, right = 640, 360, 70, 50, 30, 20
    xs = [p[0] for s in series.values() for p in s] or [1]
    ys = [p[y_index] for s in series.values() for p in s] or [1]
    xmax, ymax = max(xs) * 1.05, max(ys) * 1.1 or 1
    sx = lambda x: left + (w - left - right) * x / xmax
    sy = lambda y: h - bottom - (h - top - bottom) * y / ymax
    colors = ["#1f77b4", "#d62728", "#2ca02c"]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<text x="{w / 2}" y="18" text-anchor="middle" font-size="14">{title}</text>',
             f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="black"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="black"/>',
             f'<text x="{w / 2}" y="{h - 10}" text-anchor="middle">offered load, msgs/s</text>',
             f'<text x="15" y="{h / 2}" text-anchor="middle" transform="rotate(-90 15 {h / 2})">{ylabel}</text>']
    for i in range(5):
        xv, yv = xmax * i / 4, ymax * i / 4
        parts.append(f'<text x="{sx(xv)}" y="{h - bottom + 16}" text-anchor="middle">{xv:,.0f}</text>')
        parts.append(f'<text x="{left - 6}" y="{sy(yv) + 4}" text-anchor="end">{yv:,.0f}</text>')
        parts.append(f'<line x1="{left}" y1="{sy(yv)}" x2="{w - right}" y2="{sy(yv)}" stroke="#ddd"/>')
    for n, (name, pts) in enumerate(series.items()):
        color = colors[n % len(colors)]
        coords = " ".join(f"{sx(p[0]):.1f},{sy(p[y_index]):.1f}" for p in pts)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{coords}"/>')
        for p in pts:
            parts.append(f'<circle cx="{sx(p[0]):.1f}" cy="{sy(p[y_index]):.1f}" r="3" fill="{color}"/>')
        parts.append(f'<text x="{left + 10}" y="{top + 16 + 16 * n}" fill="{color}">{name}</text>')
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def main():
    d = pathlib.Path(sys.argv[1])
    print(table(d))
    series = {"chat_server": curve(d, "paced"), "raw forwarder": curve(d, "raw_paced")}
    if all(series.values()):
        svg_plot(d / "throughput.svg", "Delivered vs offered load (50 pairs)", "delivered msgs/s", series, 1)
        svg_plot(d / "latency_p99.svg", "p99 one-way latency vs offered load (50 pairs)", "p99 latency, us", series, 2)


if __name__ == "__main__":
    main()
