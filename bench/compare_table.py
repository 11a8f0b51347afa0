#!/usr/bin/env python3
"""Prints compare.sh's table: medians over rounds, and ratios to raw and to gRPC."""
import json
import statistics
import sys
from collections import defaultdict

ORDER = ["raw", "micro-proto", "micro-async", "micro-json", "grpc", "greeter"]


def median(values):
    return statistics.median(values) if values else None


def fmt(v, digits=0):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    if a is None or b in (None, 0):
        return "-"
    return f"{a / b:.2f}x"


def main(path):
    load = defaultdict(lambda: defaultdict(list))  # (size, conc) -> system -> [result]
    single = defaultdict(lambda: defaultdict(list))  # kind -> system -> [value]
    rounds = set()
    for line in open(path):
        r = json.loads(line)
        rounds.add(r["round"])
        if r["kind"] == "load":
            load[(r["size"], r["conc"])][r["system"]].append(r["result"])
        elif r["kind"] == "startup":
            if r["result"].get("ok"):
                single["startup_ms"][r["system"]].append(r["result"]["startup_ms"])
        else:
            single[r["kind"]][r["system"]].append(r["value"])

    systems = [s for s in ORDER if any(s in v for v in load.values())]
    print(f"\nMedians over {len(rounds)} round(s); ratios are same-run medians.\n")
    header = f"{'scenario':<16}{'system':<13}{'qps':>10}{'p50 us':>9}{'p99 us':>9}" \
             f"{'p99.9 us':>10}{'errors':>7}{'qps/raw':>9}{'qps/grpc':>10}{'p50/raw':>9}"
    print(header)
    print("-" * len(header))
    for (size, conc) in sorted(load, key=lambda k: (k[0], k[1])):
        per = load[(size, conc)]
        med = {}
        for s in systems:
            res = per.get(s, [])
            med[s] = {k: median([x[k] for x in res]) for k in ("qps", "p50_us", "p99_us", "p999_us")}
            med[s]["errors"] = sum(x["errors"] for x in res)
        label = f"{size if size < 1024 else str(size // 1024) + ' Ki'} B x {conc}"
        for s in systems:
            m = med[s]
            raw = med.get("raw", {})
            grpc = med.get("grpc", {})
            print(f"{label:<16}{s:<13}{fmt(m['qps']):>10}{fmt(m['p50_us'], 1):>9}"
                  f"{fmt(m['p99_us'], 1):>9}{fmt(m['p999_us'], 1):>10}{m['errors']:>7}"
                  f"{ratio(m['qps'], raw.get('qps')):>9}{ratio(m['qps'], grpc.get('qps')):>10}"
                  f"{ratio(m['p50_us'], raw.get('p50_us')):>9}")
            label = ""
    print()
    header = f"{'system':<13}{'idle RSS MB':>12}{'peak RSS MB':>12}{'first call ms':>14}" \
             f"{'idle/raw':>9}"
    print(header)
    print("-" * len(header))
    raw_idle = median(single["idle_rss_kb"].get("raw", []))
    for s in ORDER:
        idle = median(single["idle_rss_kb"].get(s, []))
        peak = median(single["peak_rss_kb"].get(s, []))
        start = median(single["startup_ms"].get(s, []))
        if idle is None and peak is None and start is None:
            continue
        print(f"{s:<13}{fmt(idle and idle / 1024, 1):>12}{fmt(peak and peak / 1024, 1):>12}"
              f"{fmt(start, 2):>14}{ratio(idle, raw_idle):>9}")


if __name__ == "__main__":
    main(sys.argv[1])
