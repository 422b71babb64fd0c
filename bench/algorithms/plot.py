#!/usr/bin/python3
"""Draws algorithms_bench's CSV: one column per problem; the top row shows
the final best objective of every seed (dots) and the median (bar), the
bottom row the simulated time to reach the problem's target (seeds that
never reached it are drawn at the top, as "never").

    python3 bench/algorithms/plot.py algorithms_bench.csv [-o algorithms_bench.png]
"""
import argparse
import csv
import math
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("-o", "--output", default=None, help="PNG path (default: CSV name .png)")
    args = parser.parse_args()
    with open(args.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{args.csv}: no runs")
    problems = list(dict.fromkeys(r["problem"] for r in rows))
    algorithms = list(dict.fromkeys(r["algorithm"] for r in rows))

    fig, axes = plt.subplots(2, len(problems), figsize=(5.2 * len(problems), 8), squeeze=False)
    for col, problem in enumerate(problems):
        runs = [r for r in rows if r["problem"] == problem]
        lower = runs[0]["lower_is_better"] == "1"
        target = float(runs[0]["target"])
        best_ax, time_ax = axes[0][col], axes[1][col]
        never = max([float(r["wall_time"]) for r in runs] + [1.0]) * 1.05
        for y, algorithm in enumerate(algorithms):
            mine = [r for r in runs if r["algorithm"] == algorithm]
            if not mine:
                continue
            best = [float(r["final_best"]) for r in mine]
            best_ax.scatter(best, [y] * len(best), s=14, alpha=0.6, color="C0")
            best_ax.scatter([statistics.median(best)], [y], marker="|", s=300, color="k")
            times = [float(r["time_to_target"]) if r["time_to_target"] else never for r in mine]
            time_ax.scatter(times, [y] * len(times), s=14, alpha=0.6, color="C1")
            time_ax.scatter([statistics.median(times)], [y], marker="|", s=300, color="k")
        best_ax.axvline(target, color="grey", linestyle=":", label=f"target {target:g}")
        best_ax.set_title(f"{problem} ({'lower' if lower else 'higher'} is better)")
        best_ax.set_xlabel("final best objective (noise-free)")
        best_ax.legend(loc="best", fontsize="small")
        if lower and min(float(r["final_best"]) for r in runs) > 0:
            spread = max(float(r["final_best"]) for r in runs) / min(
                float(r["final_best"]) for r in runs)
            if spread > 20:
                best_ax.set_xscale("log")
        time_ax.axvline(never, color="grey", linestyle=":")
        time_ax.set_xlabel("simulated time to target (right edge: never)")
        for ax in (best_ax, time_ax):
            ax.set_yticks(range(len(algorithms)))
            ax.set_yticklabels(algorithms if col == 0 else [""] * len(algorithms))
            ax.invert_yaxis()
            ax.grid(axis="x", alpha=0.3)
    fig.suptitle("algorithms_bench: equal budget in training steps; dots = seeds, bars = medians")
    fig.tight_layout()
    output = args.output or (args.csv[:-4] if args.csv.endswith(".csv") else args.csv) + ".png"
    fig.savefig(output, dpi=110)
    print(output)


if __name__ == "__main__":
    main()
