"""DaRE forests: single deletions vs retraining, fit time and accuracy vs scikit-learn.

For each dataset (UCI Adult, Taiwan credit default, ProPublica COMPAS and a synthetic 100,000
row set) a :class:`~unlearnkit.exact.DaREForestClassifier` is trained, then 100 random training
rows are deleted one request at a time. Each deletion is timed (``UnlearningResult.seconds``:
the whole call, from reading the request to the updated model and its fingerprints before and
after) and compared with retraining the same forest from scratch on the rows that remain (the
speed-up is retrain time over mean, median and worst deletion time; the retrain time is the
median of four retrains, timed before each of three blocks of deletions and after the last on
the rows left at that point, so that baseline and deletions share the machine's drifts in
speed).
Each row also counts the subtrees retrained and the pairs of parked subtrees taken back (a
node whose split returns to the one it had before). After the deletions the forest is checked
against that retrain: with ``topd=0`` (G-DaRE) the two must be identical (``equals_retrain``).
Every dataset is run twice, with ``topd=0`` and with three random top levels (R-DaRE,
``topd=3``: exact in distribution, so its trees need not equal one particular retrain).

The same configuration is compared with scikit-learn's ``RandomForestClassifier`` (same number
of trees, depth and ``max_features``; ``bootstrap=False`` because DaRE trains every tree on all
rows; one thread each): fit time ratio and test accuracy. Both train on the same split; Adult
uses its official test file, the others a stratified 30 % hold-out.

A second table shows the effect of the number of random top levels (``topd``) and of the
number of sampled thresholds per attribute (``k``) on deletion speed and accuracy (Adult, fewer
trees); the figure ``forest.png`` beside the JSON plots it.

The kernels are compiled (and cached by numba) before anything is timed.

Goals: on the sets of 30,000 rows and more, a deletion at least 1000x faster than retraining on
average; fit time within 3x of scikit-learn; accuracy within 1 point of scikit-learn.
"""

from __future__ import annotations

import copy
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

from benchmarks._common import quick, results_dir, write_results
from unlearnkit.exact import DaREForestClassifier
from unlearnkit.requests import ForgetRequest

#: The forest of the main table (G-DaRE: exact, no random levels).
MAIN = {"n_estimators": 50, "max_depth": 12, "k": 10, "max_features": "sqrt", "topd": 0}
#: The main table's random top levels: G-DaRE (exact) and R-DaRE (exact in distribution).
MAIN_TOPD = (0, 3)
#: Blocks of deletions in the main table; the retrain baseline is timed before each and after
#: the last (the median is reported).
BLOCKS = 3
#: Smaller forests for the topd / k sweep.
SWEEP_TREES = 20
SWEEP_TOPD = (0, 1, 2, 3, 5)
SWEEP_K = (1, 5, 25)
#: Depths of the sweep on Taiwan credit.
SWEEP_DEPTH = (3, 5, 8, 12)


def load(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train and test arrays of a dataset (real ones through ``unlearnkit.datasets``)."""
    if name == "synthetic":
        n = 2_500 if quick() else 143_000  # 100,000 training rows after the split
        X, y = make_classification(
            n_samples=n, n_features=20, n_informative=8, n_redundant=4, flip_y=0.05,
            class_sep=0.8, random_state=0,
        )  # fmt: skip
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
        return X_tr, X_te, y_tr, y_te
    from unlearnkit import datasets

    if name == "adult":
        train, test = datasets.load_adult("train"), datasets.load_adult("test")
        return (
            train.X.to_numpy(float),
            test.X.to_numpy(float),
            np.asarray(train.y),
            np.asarray(test.y),
        )
    data = datasets.load_taiwan_credit() if name == "taiwan_credit" else datasets.load_compas()
    X, y = data.X.to_numpy(float), np.asarray(data.y)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    return X_tr, X_te, y_tr, y_te


def warm_up() -> None:
    """Compile the forest's kernels before anything is timed: numba keeps them in its cache
    on disk, but on a fresh machine the first fit, deletion and compaction would otherwise
    count their compilation."""
    X, y = make_classification(n_samples=400, n_features=8, n_informative=4, random_state=1)
    y[:6] = 2  # a small third class
    for topd in MAIN_TOPD:
        params = {**MAIN, "n_estimators": 3, "max_depth": 5, "topd": topd}
        model = DaREForestClassifier(**params, random_state=0).fit(X, y)
        before = copy.copy(model)  # shares the trees: reading it undoes the next update
        model.unlearn([10])
        model.unlearn([11, 12, 13])
        before.predict(X)
        model.unlearn(ForgetRequest.classes([2]))  # updates, then compacts the heaps
        model.predict(X)


def _timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def deletions(
    model: DaREForestClassifier,
    n_rows: int,
    count: int,
    rng: np.random.Generator,
    between: Callable[[np.ndarray], None] | None = None,
    blocks: int = 1,
) -> tuple[list[float], list[float], np.ndarray, dict[str, int]]:
    """``count`` single-row deletions of random rows; times, retrained fractions, rows and
    the subtrees retrained and parked subtree pairs taken back over all of them.

    The deletions run in ``blocks`` blocks; ``between(gone)`` is called before each block
    with the rows deleted so far (to time the baseline in the same stretches of time)."""
    rows = rng.choice(n_rows, size=count, replace=False)
    times, fractions = [], []
    totals = {"subtrees_retrained": 0, "subtree_pairs_reused": 0}
    done = 0
    for block in np.array_split(rows, blocks):
        if between is not None:
            between(rows[:done])
        for row in block:
            result = model.unlearn([int(row)])
            times.append(result.seconds)
            fractions.append(result.retrained_fraction)
            for key in totals:
                totals[key] += int(result.evidence[key])
        done += len(block)
    return times, fractions, rows, totals


def _sklearn_forest(params: dict[str, Any]) -> RandomForestClassifier:
    """scikit-learn's forest with the settings of a DaRE forest (every tree on every row)."""
    return RandomForestClassifier(
        n_estimators=params["n_estimators"], max_depth=params["max_depth"],
        max_features=params["max_features"], bootstrap=False, n_jobs=1, random_state=0,
    )  # fmt: skip


def main_case(name: str, rng: np.random.Generator, topd: int) -> dict[str, Any]:
    X_tr, X_te, y_tr, y_te = load(name)
    params = {**MAIN, "topd": topd}
    count = 100
    if quick():
        params.update(n_estimators=5, max_depth=6)
        count = 5
    fit_s, model = _timed(lambda: DaREForestClassifier(**params, random_state=0).fit(X_tr, y_tr))
    sk = _sklearn_forest(params)
    sk_fit_s, _ = _timed(lambda: sk.fit(X_tr, y_tr))
    acc = float(model.score(X_te, y_te))
    sk_acc = float(sk.score(X_te, y_te))
    memory = model.memory_usage()

    def retrain(gone: np.ndarray) -> tuple[float, DaREForestClassifier]:
        keep = np.setdiff1d(np.arange(len(X_tr)), gone)
        return _timed(
            lambda: DaREForestClassifier(**params, random_state=0).fit(
                X_tr[keep], y_tr[keep], sample_ids=keep
            )
        )

    # a shared machine's speed drifts: the baseline is timed before each block of deletions
    # and after the last one, on the rows left at that point (median of the timings)
    retrain_times: list[float] = []
    blocks = 1 if quick() else BLOCKS
    times, fractions, gone, totals = deletions(
        model, len(X_tr), count, rng, lambda g: retrain_times.append(retrain(g)[0]), blocks
    )
    final_s, retrained = retrain(gone)
    retrain_s = statistics.median([*retrain_times, final_s])
    mean = statistics.fmean(times)
    return {
        "dataset": name,
        "n_rows": len(X_tr) + len(X_te),
        "n_train": len(X_tr),
        "n_features": X_tr.shape[1],
        **{key: params[key] for key in ("n_estimators", "max_depth", "k", "topd")},
        "fit_s": fit_s,
        "sklearn_fit_s": sk_fit_s,
        "fit_ratio": fit_s / sk_fit_s,
        "accuracy": acc,
        "sklearn_accuracy": sk_acc,
        "accuracy_gap_points": 100 * (sk_acc - acc),
        "deletions": count,
        "delete_mean_s": mean,
        "delete_median_s": statistics.median(times),
        "delete_worst_s": max(times),
        "retrain_s": retrain_s,
        "speedup_mean": retrain_s / mean,
        "speedup_median": retrain_s / statistics.median(times),
        "speedup_worst": retrain_s / max(times),
        "retrained_fraction_mean": statistics.fmean(fractions),
        **totals,
        "equals_retrain": bool(np.array_equal(model.tree_digests_, retrained.tree_digests_)),
        "cached_statistics_mb": memory["cached_statistics"] / 2**20,
        "allocated_mb": memory["allocated"] / 2**20,
        "journal_mb": model.memory_usage()["journal"] / 2**20,
    }


def _sweep_case(
    name: str, data: tuple[np.ndarray, ...], params: dict[str, Any], count: int,
    rng: np.random.Generator,
) -> dict[str, Any]:  # fmt: skip
    """Fit time, accuracy and deletion speed of one forest of a sweep."""
    X_tr, X_te, y_tr, y_te = data
    fit_s, model = _timed(lambda: DaREForestClassifier(**params, random_state=0).fit(X_tr, y_tr))
    acc = float(model.score(X_te, y_te))
    times, fractions, _, _ = deletions(model, len(X_tr), count, rng)
    mean = statistics.fmean(times)
    fraction = statistics.fmean(fractions)
    return {
        "dataset": name,
        **{key: params[key] for key in ("n_estimators", "max_depth", "k", "topd")},
        "fit_s": fit_s,
        "accuracy": acc,
        "delete_mean_s": mean,
        "delete_median_s": statistics.median(times),
        "speedup_mean": fit_s / mean,
        "speedup_median": fit_s / statistics.median(times),
        "retrained_fraction_mean": fraction,
        "fit_work_per_deletion_work": 1 / fraction if fraction > 0 else float("inf"),
    }


def sweep(rng: np.random.Generator) -> list[dict[str, Any]]:
    """Deletion speed and accuracy for each ``topd`` and ``k`` (Adult; synthetic when quick)."""
    name = "synthetic" if quick() else "adult"
    data = load(name)
    trees, count = (4, 4) if quick() else (SWEEP_TREES, 100)
    topds, ks = ((0, 1), (2, 5)) if quick() else (SWEEP_TOPD, SWEEP_K)
    rows = []
    for k in ks:
        for topd in topds:
            params = {**MAIN, "n_estimators": trees, "k": k, "topd": topd}
            if quick():
                params["max_depth"] = 6
            rows.append(_sweep_case(name, data, params, count, rng))
    return rows


def depth_sweep(rng: np.random.Generator) -> list[dict[str, Any]]:
    """G-DaRE deletion speed, the share of the training work a deletion redoes, and accuracy
    (with scikit-learn's at the same depth) for each ``max_depth`` on Taiwan credit, whose
    deletions redo the most work (synthetic when quick)."""
    name = "synthetic" if quick() else "taiwan_credit"
    data = load(name)
    X_tr, X_te, y_tr, y_te = data
    trees, count = (4, 4) if quick() else (SWEEP_TREES, 100)
    rows = []
    for depth in (3, 6) if quick() else SWEEP_DEPTH:
        params = {**MAIN, "n_estimators": trees, "max_depth": depth}
        row = _sweep_case(name, data, params, count, rng)
        sk = _sklearn_forest(params)
        row["sklearn_accuracy"] = float(sk.fit(X_tr, y_tr).score(X_te, y_te))
        rows.append(row)
    return rows


def _two_panels() -> tuple[Any, Any, Any]:
    """A figure of two panels side by side, drawn without a display."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    return fig, ax1, ax2


def _save_panels(fig: Any, title: str, path: Path) -> None:
    """Grids, legends and the title of a :func:`_two_panels` figure; writes it to ``path``."""
    import matplotlib.pyplot as plt

    for ax in fig.axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Speed-up and accuracy by ``topd`` for each ``k`` (the topd / k sweep)."""
    fig, ax1, ax2 = _two_panels()
    for i, k in enumerate(sorted({r["k"] for r in rows})):
        sub = sorted((r for r in rows if r["k"] == k), key=lambda r: r["topd"])
        topd = [r["topd"] for r in sub]
        color = f"C{i}"
        ax1.plot(topd, [r["speedup_mean"] for r in sub], "o-", color=color, label=f"k={k}, mean")
        ax1.plot(
            topd, [r["speedup_median"] for r in sub], "s--", color=color, label=f"k={k}, median"
        )
        ax2.plot(topd, [100 * r["accuracy"] for r in sub], "o-", color=color, label=f"k={k}")
    ax1.set(xlabel="random top levels (topd)", ylabel="fit time / deletion time")
    ax1.set_yscale("log")
    ax2.set(xlabel="random top levels (topd)", ylabel="test accuracy (%)")
    _save_panels(fig, f"DaRE forest on {rows[0]['dataset']}: {rows[0]['n_estimators']} trees", path)


def plot_depth(rows: list[dict[str, Any]], path: Path) -> None:
    """Speed-up, fit work per deletion work and accuracy by ``max_depth`` (the depth sweep)."""
    depth = [r["max_depth"] for r in rows]
    fig, ax1, ax2 = _two_panels()
    ax1.plot(depth, [r["speedup_mean"] for r in rows], "o-", label="fit time / mean deletion time")
    ax1.plot(
        depth, [r["fit_work_per_deletion_work"] for r in rows], "s--",
        label="fit work / mean deletion work",
    )  # fmt: skip
    ax1.axhline(1000, color="grey", lw=1, ls=":", label="1000x")
    ax1.set(xlabel="max_depth", ylabel="fit / deletion")
    ax1.set_yscale("log")
    ax2.plot(depth, [100 * r["accuracy"] for r in rows], "o-", label="DaRE (topd=0)")
    ax2.plot(depth, [100 * r["sklearn_accuracy"] for r in rows], "s--", label="scikit-learn")
    ax2.set(xlabel="max_depth", ylabel="test accuracy (%)")
    title = f"G-DaRE on {rows[0]['dataset']} by depth: {rows[0]['n_estimators']} trees"
    _save_panels(fig, title, path)


def main() -> None:
    warm_up()
    rng = np.random.default_rng(0)
    load_start = os.getloadavg()[0]
    names = ("synthetic",) if quick() else ("adult", "taiwan_credit", "compas", "synthetic")
    rows = [main_case(name, rng, topd) for topd in MAIN_TOPD for name in names]
    sweep_rows = sweep(rng)
    depth_rows = depth_sweep(rng)
    suffix = "-quick" if quick() else ""
    figure = results_dir() / f"forest{suffix}.png"
    plot(sweep_rows, figure)
    depth_figure = results_dir() / f"forest-depth{suffix}.png"
    plot_depth(depth_rows, depth_figure)
    # the goal's "30k+ row sets" counts a data set's rows, test rows included
    big = [r for r in rows if r["n_rows"] >= 30_000]
    exact = [r for r in rows if r["topd"] == 0]
    write_results(
        "forest",
        rows,
        goal=(
            "DaRE deletion vs retraining the forest: >=1000x on average on 30k+ row sets; "
            "fit within 3x of sklearn RandomForest; accuracy within 1 point"
        ),
        columns=[
            "dataset",
            "topd",
            "n_rows",
            "n_train",
            "fit_s",
            "fit_ratio",
            "accuracy",
            "sklearn_accuracy",
            "delete_mean_s",
            "delete_worst_s",
            "retrain_s",
            "speedup_mean",
            "speedup_median",
            "equals_retrain",
        ],
        topd_k_sweep=sweep_rows,
        figure=str(figure),
        depth_sweep=depth_rows,
        depth_figure=str(depth_figure),
        load_average_start_end=[load_start, os.getloadavg()[0]],
        goals_met={
            **{
                f"speedup_1000x_on_30k_plus_topd_{topd}": bool(big)
                and all(r["speedup_mean"] >= 1000 for r in big if r["topd"] == topd)
                for topd in MAIN_TOPD
            },
            "speedup_below_1000x_on_30k_plus": [
                f"{r['dataset']} topd={r['topd']}" for r in big if r["speedup_mean"] < 1000
            ],
            "fit_within_3x": all(r["fit_ratio"] <= 3 for r in rows),
            "accuracy_within_1_point": all(r["accuracy_gap_points"] <= 1 for r in rows),
            "exact": all(r["equals_retrain"] for r in exact),
        },
    )


if __name__ == "__main__":
    main()
