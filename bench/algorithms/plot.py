#!/usr/bin/python3
"""Draws algorithms_bench's CSV.

Top two rows, one column per problem (section equal_budget): the final best
objective of every seed (dots) and the median (bar), then the simulated
time to reach the problem's target (seeds that never reached it are drawn
at the right edge, as "never"). Bottom row: generational against
asynchronous PBT on toy_pbt (simulated wall time to finish the same steps,
and the workers' busy fraction), and PB2 against PBT at population 4 on the
toy problem (distance to the best possible Q, per seed).

    python3 bench/algorithms/plot.py algorithms_bench.csv [-o algorithms_bench.png]
"""
import argparse
import csv
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Q after 40 generations of 4 steps with h = (1, 1) from (0.9, 0.9) at lr
# 0.01: what toy_pbt::BestPossibleQ gives for the PB2-vs-PBT setup.
BEST_POSSIBLE_TOY_Q = 1.2 - 2 * 0.81 * (1 - 0.02) ** (2 * 160)


def dots(ax, values, y, color):
    ax.scatter(values, [y] * len(values), s=14, alpha=0.6, color=color)
    ax.scatter([statistics.median(values)], [y], marker="|", s=300, color="k")


def labels(ax, names, show=True):
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names if show else [""] * len(names))
    ax.invert_yaxis()
    ax.grid(axis="x", alpha=0.3)


def equal_budget(axes, rows):
    problems = list(dict.fromkeys(r["problem"] for r in rows))
    algorithms = list(dict.fromkeys(r["algorithm"] for r in rows))
    for col, problem in enumerate(problems[: len(axes[0])]):
        runs = [r for r in rows if r["problem"] == problem]
        lower = runs[0]["lower_is_better"] == "1"
        target = float(runs[0]["target"])
        best_ax, time_ax = axes[0][col], axes[1][col]
        never = max([float(r["wall_time"]) for r in runs] + [1.0]) * 1.05
        for y, algorithm in enumerate(algorithms):
            mine = [r for r in runs if r["algorithm"] == algorithm]
            if not mine:
                continue
            dots(best_ax, [float(r["final_best"]) for r in mine], y, "C0")
            dots(time_ax,
                 [float(r["time_to_target"]) if r["time_to_target"] else never for r in mine], y,
                 "C1")
        best_ax.axvline(target, color="grey", linestyle=":", label=f"target {target:g}")
        best_ax.set_title(f"{problem} ({'lower' if lower else 'higher'} is better)")
        best_ax.set_xlabel("final best objective (noise-free)")
        best_ax.legend(loc="best", fontsize="small")
        finals = [float(r["final_best"]) for r in runs]
        if lower and min(finals) > 0 and max(finals) / min(finals) > 20:
            best_ax.set_xscale("log")
        time_ax.axvline(never, color="grey", linestyle=":")
        time_ax.set_xlabel("simulated time to target (right edge: never)")
        for ax in (best_ax, time_ax):
            labels(ax, algorithms, col == 0)


def wall_time(wall_ax, busy_ax, rows, problem="toy_pbt"):
    runs = [r for r in rows if r["section"].startswith("walltime_") and r["problem"] == problem]
    groups = list(dict.fromkeys((r["section"], r["algorithm"]) for r in runs))
    names = []
    for y, (section, algorithm) in enumerate(groups):
        mine = [r for r in runs if r["section"] == section and r["algorithm"] == algorithm]
        speed = "per worker" if section.endswith("_per_worker") else "per trial"
        names.append(f"{'async' if algorithm.startswith('Async') else 'gen'} "
                     f"{mine[0]['population']}/{mine[0]['workers']}, {speed}")
        color = "C2" if algorithm.startswith("Async") else "C3"
        dots(wall_ax, [float(r["wall_time"]) for r in mine], y, color)
        dots(busy_ax, [float(r["busy_fraction"]) for r in mine], y, color)
    labels(wall_ax, names)
    labels(busy_ax, names)
    wall_ax.set_title(f"PBT gen vs async on {problem}: members/workers")
    wall_ax.set_xlabel("simulated wall time to finish the same steps")
    busy_ax.set_title("workers' busy fraction")
    busy_ax.set_xlabel("busy fraction")


def pb2_vs_pbt(ax, rows):
    runs = [r for r in rows if r["section"] == "pb2_vs_pbt_pop4"]
    for i, algorithm in enumerate(dict.fromkeys(r["algorithm"] for r in runs)):
        mine = [r for r in runs if r["algorithm"] == algorithm]
        ax.plot([int(r["seed"]) for r in mine],
                [BEST_POSSIBLE_TOY_Q - float(r["final_best"]) for r in mine], marker="o",
                linestyle="", color=f"C{4 + i}", label=algorithm)
    ax.set_yscale("log")
    ax.set_title("PB2 vs PBT, population 4, toy (40 generations)")
    ax.set_xlabel("seed")
    ax.set_ylabel("best possible Q - final Q (lower is better)")
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("-o", "--output", default=None, help="PNG path (default: CSV name .png)")
    parser.add_argument("--dpi", type=int, default=72)
    args = parser.parse_args()
    with open(args.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{args.csv}: no runs")
    budget = [r for r in rows if r["section"] == "equal_budget"]
    problems = max(1, len(dict.fromkeys(r["problem"] for r in budget)))
    algorithms = len(dict.fromkeys(r["algorithm"] for r in budget))
    height = 0.32 * algorithms + 1.2
    fig, axes = plt.subplots(3, max(problems, 3), figsize=(5.6 * max(problems, 3), 3 * height + 1),
                             squeeze=False)
    if budget:
        equal_budget(axes, budget)
    if any(r["section"].startswith("walltime_") for r in rows):
        wall_time(axes[2][0], axes[2][1], rows)
    if any(r["section"] == "pb2_vs_pbt_pop4" for r in rows):
        pb2_vs_pbt(axes[2][2], rows)
    fig.suptitle("algorithms_bench: equal budget in training steps, simulated time; "
                 "dots = seeds, bars = medians")
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    output = args.output or (args.csv[:-4] if args.csv.endswith(".csv") else args.csv) + ".png"
    fig.savefig(output, dpi=args.dpi)
    print(output)


if __name__ == "__main__":
    main()
