"""S8's report (bench/scale.py): the table of each request at both scales, its growth
factor and what was left out, as a section of bench/RESULTS.md."""

from __future__ import annotations

import argparse
import math
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench import generate

SECTION = "## S8: requests at 2,000 and at 100,000 companies"
TARGET = 1.5  # issue 25: at 100,000 companies at most 1.5x the p50 at 2,000


def percentile(samples: list[float], p: float) -> float:
    """Nearest rank: the smallest sample with at least p % of the samples at or below it."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(found: dict[str, Any]) -> dict[str, Any]:
    """One scale's runs of a request: p50, p99 (ms) and the rows its answer held."""
    ms = found["ms"]
    return {"p50": round(percentile(ms, 50), 2), "p99": round(percentile(ms, 99), 2),
            "rows": found["rows"]}  # fmt: skip


def loaded(loaded: dict[str, Any] | None, seconds: float) -> str:
    if loaded is None:
        return f"reused (same seed and scale), ready in {seconds:.0f} s"
    return (f"loaded in {seconds:.0f} s ({loaded['generate_and_copy_s']:g} s generating and COPY, "
            f"{loaded['analyze_s']:g} s ANALYZE), {sum(loaded['rows'].values()):,} rows, database "
            f"{loaded['database_mb']:,} MB")  # fmt: skip


def _size(companies: int) -> str:
    return f"{companies // 1000}k" if companies >= 1000 else str(companies)


def growth(small: float, large: float) -> str:
    return f"{large / small:.1f}x" if small > 0 else "-"


def factors(text: str) -> list[float]:
    """`--scale-factor`: the larger scales, e.g. "50" or "10,50"."""
    found = [float(part) for part in text.split(",") if part.strip()]
    if not found or any(f <= 0 for f in found):
        raise argparse.ArgumentTypeError("scales above 0, separated by commas")
    return found


def report_lines(args: argparse.Namespace, labels: list[str], results: dict[str, Any],
                 skipped: dict[str, str], loads: dict[float, str], machine: str,
                 total_seconds: float) -> list[str]:  # fmt: skip
    """The section: every scale's p50 and p99, the growth from the first scale to the last."""
    scales = [1.0, *args.scale_factor]
    sizes = {s: dict(generate.tenants(s))["bench"] for s in scales}
    first, last = scales[0], scales[-1]
    command = ",".join(f"{s:g}" for s in args.scale_factor)
    data = "; ".join(f"scale {s:g}, {sizes[s]:,} companies: {loads.get(s, '-')}" for s in scales)
    lines = [
        SECTION,
        "",
        f"Target (issue 25): at {sizes[last]:,} companies each request (search aside) costs at "
        f"most {TARGET:g}x its p50 at {sizes[first]:,}.",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({psutil.cpu_count()} "
        f"cores, shared: {machine}), commit {_commit()}; the servers pinned as for S1-S4. "
        f"Run with `bash bench/run.sh --only scale --scale-factor {command}`; it took "
        f"{total_seconds:.0f} s.",
        "",
        f"Data (bench/generate.py, the `bench` tenant; nine other tenants of a tenth each): {data}.",
        "",
        "One client, one keep-alive connection per server, sequential requests: "
        f"{args.scale_warmup} warm-up then {args.scale_runs} runs of each request, the tenants "
        "taking turns; the client's wall time in ms (p99: nearest rank). Rows: what the answer "
        "held (edges; the board: its deals; a count) at each scale. Growth: p50 at "
        f"{sizes[last]:,} over p50 at {sizes[first]:,}.",
        "",
        "| request | " + " | ".join(f"{_size(sizes[s])} p50 | {_size(sizes[s])} p99" for s in scales)
        + f" | growth | <= {TARGET:g}x | rows " + " / ".join(_size(sizes[s]) for s in scales) + " |",
        "|---|" + "---|---|" * len(scales) + "---|---|---|",
    ]  # fmt: skip
    failed: dict[str, str] = {}
    for label in labels:
        result = results.get(label)
        if result is None:
            continue
        if "failed" in result:
            failed[label] = result["failed"]
            continue
        found = {s: summary(result[s]) for s in scales}
        a, b = found[first]["p50"], found[last]["p50"]
        ratio = b / a if a else math.inf
        times = " | ".join(f"{found[s]['p50']:.1f} | {found[s]['p99']:.1f}" for s in scales)
        lines.append(
            f"| {label} | {times} | {growth(a, b)} | {'yes' if ratio <= TARGET else 'no'} | "
            + " / ".join(str(found[s]["rows"]) for s in scales) + " |"
        )  # fmt: skip
    if failed:
        lines += ["", f"Answered with an error, not timed ({len(failed)}):", ""]
        lines += [f"- {label}: {why}" for label, why in failed.items()]
    if skipped:
        lines += ["", f"Not measured, the schema cannot answer them ({len(skipped)}):", ""]
        lines += [f"- {label}: {why}" for label, why in skipped.items()]
    return lines


def _commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, check=True,
                             capture_output=True, text=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, check=True, capture_output=True, text=True).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{sha}{' (with uncommitted changes)' if dirty.strip() else ''}"
