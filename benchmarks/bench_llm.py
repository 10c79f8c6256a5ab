"""LLM unlearning on the offline TOFU-style benchmark, 10% forget split.

A tokenizer and a tiny GPT-2 are trained from scratch on 50 fictitious people (20 questions
each) and two general-knowledge sets; the retain-only reference is trained with the same recipe
without the last 5 people. Each method then unlearns those 5 people from the full model, for
several unlearning seeds, and is scored against the reference: forget quality (KS p-value of
truth ratios), model utility (as a share of the original's), PrivLeak (Min-K%++), recovery
after a relearning attack, forget quality after int8 quantisation, and compute as a share of
retraining the reference (token passes: 3 per trained token, 1 per reference-model token).

Goal: at least one method with forget quality >= 0.05 and utility >= 90% of the original's at
<= 5% of retraining compute. Method settings were chosen on unlearning seed 100, which is not
among the reported seeds.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks._common import quick, results_dir, write_results
from unlearnkit.llm import (
    DEFAULT_METHOD_CONFIGS,
    BenchmarkConfig,
    LoRAOptions,
    TofuBenchmark,
    default_cache_dir,
)
from unlearnkit.llm.plots import plot_tradeoff

SPLIT = "forget10"
GOAL = (
    "forget quality >= 0.05 with utility >= 90% of the original at <= 5% of retraining compute "
    "(TOFU-style, forget10)"
)
STATS = (
    "forget_quality",
    "utility_ratio",
    "model_utility",
    "privleak",
    "relearn_recovery",
    "int8_forget_quality",
    "compute_ratio",
    "forget_probability",
    "forget_rouge",
)


def _summaries(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for method in dict.fromkeys(r["method"] for r in rows):
        runs = [r for r in rows if r["method"] == method]
        row: dict[str, Any] = {"method": method, "seeds": len(runs)}
        for key in STATS:
            values = np.array([r.get(key, np.nan) for r in runs], dtype=float)
            row[key] = float(np.mean(values))
            row[f"{key}_std"] = float(np.std(values))
        row["forget_quality_median"] = float(np.median([r["forget_quality"] for r in runs]))
        row["goal_met_runs"] = sum(_meets(r) for r in runs)
        typical = row | {"forget_quality": row["forget_quality_median"]}
        row["goal_met"] = method not in ("original", "retain") and _meets(typical)
        row["goal_met_every_seed"] = row["goal_met"] and row["goal_met_runs"] == len(runs)
        out.append(row)
    return out


def _meets(row: dict[str, Any]) -> bool:
    return bool(
        row["forget_quality"] >= 0.05
        and row["utility_ratio"] >= 0.9
        and row.get("compute_ratio", 1.0) <= 0.05
    )


def _variants(quick: bool) -> list[tuple[str, str, Any]]:
    """Labelled variants: NPO on LoRA adapters (rank 8, merged after training), and DPO with
    wrong alternative answers instead of refusals as the preferred target."""
    lora = replace(
        DEFAULT_METHOD_CONFIGS["npo"], learning_rate=1e-2, lora=LoRAOptions(r=8, alpha=16)
    )
    out: list[tuple[str, str, Any]] = [("npo+lora", "npo", lora)]
    if not quick:
        out.append(
            ("dpo+alternative", "dpo", replace(DEFAULT_METHOD_CONFIGS["dpo"], target="alternative"))
        )
    return out


def run(quick: bool) -> dict[str, Any]:
    """Run the benchmark (tiny data and model, NPO with and without LoRA, one seed when
    ``quick``)."""
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        config = BenchmarkConfig.tiny() if quick else BenchmarkConfig()
        cache = Path(tmp) if quick else default_cache_dir()
        bench = TofuBenchmark(config, cache_dir=cache)
        methods = ["npo"] if quick else list(DEFAULT_METHOD_CONFIGS)
        seeds = [0] if quick else [0, 1, 2, 3, 4]
        rows = bench.run(methods, seeds=seeds, split=SPLIT)
        for label, method, variant in _variants(quick):
            extra_rows = bench.run([method], seeds=seeds, split=SPLIT, configs={method: variant})
            for r in extra_rows[2:]:
                r["method"] = label
                rows.append(r)
        _, full_report = bench.model(None)
        _, retain_report = bench.model(SPLIT)
    summary = _summaries(rows)
    out = results_dir()
    out.mkdir(parents=True, exist_ok=True)
    plot = plot_tradeoff(rows, out / f"llm{'-quick' if quick else ''}.png")
    met = [r["method"] for r in summary if r["goal_met"]]
    extra = {
        "split": SPLIT,
        "benchmark_config": config.key(),
        "seeds": seeds,
        "runs": rows,
        "training": {"full": full_report.to_dict(), "retain": retain_report.to_dict()},
        "goal_met": bool(met),
        "goal_met_by": met,
        "goal_met_every_seed_by": [r["method"] for r in summary if r["goal_met_every_seed"]],
        "goal_rule": (
            "goal_met: the median forget quality over seeds and the mean utility and compute "
            "ratios meet the goal (a mean of p-values is dominated by its largest); "
            "goal_met_runs: how many single seeds meet it on their own"
        ),
        "plot": plot.name,
    }
    write_results(
        "llm",
        summary,
        goal=GOAL,
        columns=[
            "method",
            "seeds",
            "forget_quality",
            "forget_quality_std",
            "forget_quality_median",
            "utility_ratio",
            "utility_ratio_std",
            "privleak",
            "relearn_recovery",
            "int8_forget_quality",
            "compute_ratio",
            "goal_met_runs",
        ],
        **extra,
    )
    return {"rows": summary, **extra}


def main() -> None:
    run(quick())


if __name__ == "__main__":
    main()
