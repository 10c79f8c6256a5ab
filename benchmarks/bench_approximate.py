"""Approximate unlearning for deep networks against retraining from scratch.

Tasks
-----
* **Fashion-MNIST, small CNN** (two 3x3 convolutions with 16 and 32 channels and max-pooling,
  a 64-unit hidden layer; about 106,000 weights): 4,000 training images drawn at random (400 per
  class on average) and 2,000 test images, pixels in [0, 1]. Trained by SGD (momentum 0.9,
  learning rate 0.05 with cosine decay, weight decay 5e-4, batch 64) for 8 epochs on one CPU
  thread.
* **UCI Adult, tabular MLP** (105 inputs, one 64-unit hidden layer, 2 outputs): 8,000 training
  rows drawn at random and 4,000 rows of the official test file; numeric columns standardised
  with the training subsample's mean and deviation. Same recipe, 8 epochs.

Scenarios
---------
* **random 10 %**: a fixed random tenth of the training rows is forgotten (Fashion-MNIST and
  Adult).
* **class-wise**: every training image of class 0 ("T-shirt/top") is forgotten (Fashion-MNIST;
  the test accuracy is then on the other nine classes' test images).

For every seed (0, 1, 2) the model is trained with that seed, retrained with the same seed
without the forget set (the reference), and unlearned by every method that supports the
request (:data:`unlearnkit.approximate.methods`, with the configs in ``CONFIGS``: their defaults
unless listed). The forget set is the same for every seed, so that the seeds are ``N = 3``
independent trainings for the NeurIPS-2023 forgetting score.

Figures (mean and standard deviation over the seeds), all from :mod:`unlearnkit.evaluate`:
UA (1 - accuracy on the forget set), RA, TA (:func:`~unlearnkit.evaluate.utility_splits`),
MIA-efficacy (the SVC population attack of Jia et al. / SalUn,
:func:`~unlearnkit.evaluate.mia_efficacy`: the share of forget samples it calls non-members),
the per-example LOSS attack's AUC of forget against test samples
(:func:`~unlearnkit.evaluate.loss_threshold_attack`; 0.5 means the forget set looks like unseen
data), the average gap to the retrained model over UA, RA, TA and MIA-efficacy in points
(:func:`~unlearnkit.evaluate.average_gap`, as SalUn reports it), the forgetting score of the
NeurIPS 2023 competition over the ``N`` seeds (:func:`~unlearnkit.evaluate.forgetting.
forgetting_score`), run time and gradient work (per-sample gradients) as shares of retraining.

Sequential requests: the three methods with the smallest average gap on Fashion-MNIST random
forgetting, among those within the cost goal, forget 50 successive batches of 10 random
training images (one request each, every request applied to the previous result); RA, TA and
UA over everything forgotten so far are reported after 1, 10 and 50 rounds, beside the model
retrained without the same images.

Poisoned data (Goel et al., "Corrective Machine Unlearning", 2024): 2,000 Fashion-MNIST
training images, 5 % of those outside class 0 get a 3x3 white patch in the bottom-right corner
and label 0 (BadNets). The poisoned model is unlearned with 10 %, 25 %, 50 % and 100 % of the
poisoned samples identified; the attack success rate (share of triggered test images outside
class 0 predicted as 0, :func:`unlearnkit.evaluate.symptoms.backdoor_success_rate`) and the
clean test accuracy are reported before and after, beside retraining without the identified
samples.

Plots: ``approximate.png`` (average gap against cost for every method and scenario, and the
sequential-request curves) and ``approximate-poison.png`` (attack success rate against the
share of poison identified).

Goal: the best method within 2 points of average gap of retraining at no more than 10 % of
retraining's cost (per-sample gradients), on each scenario.

``UNLEARNKIT_BENCH_QUICK=1``: Fashion-MNIST only (600 training images, 3 epochs, one seed, so no
forgetting score), three methods, two sequential rounds and one poison fraction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmarks._common import quick, results_dir, write_results
from unlearnkit import ForgetRequest, Samples
from unlearnkit.approximate import TrainConfig, TrainingReport, methods, train, unlearn
from unlearnkit.approximate.backdoor import Trigger, poison
from unlearnkit.evaluate import (
    average_gap,
    loss_threshold_attack,
    mia_efficacy,
    utility_splits,
)
from unlearnkit.evaluate.adapters import TorchAdapter
from unlearnkit.evaluate.forgetting import forgetting_score
from unlearnkit.evaluate.shadow import ModelOutputs
from unlearnkit.evaluate.symptoms import backdoor_success_rate

QUICK = quick()
SEEDS = (0,) if QUICK else (0, 1, 2)
EPOCHS = 3 if QUICK else 8
FMNIST_TRAIN = 600 if QUICK else 4000
FMNIST_TEST = 300 if QUICK else 2000
ADULT_TRAIN, ADULT_TEST = 8000, 4000
RETAIN_EVAL = 300 if QUICK else 1000
#: Method configs of the benchmark (the defaults where not listed).
CONFIGS: dict[str, dict[str, Any]] = {"fisher": {"max_samples": 100}} if QUICK else {}
QUICK_METHODS = ("finetune", "scrub", "ssd")
ROUNDS = (1, 2) if QUICK else (1, 10, 50)
ROUND_SIZE = 10
POISON_TRAIN = 600 if QUICK else 2000
POISON_RATE = 0.05
POISON_FRACTIONS = (1.0,) if QUICK else (0.1, 0.25, 0.5, 1.0)
COST_GOAL, GAP_GOAL = 0.10, 2.0
COLUMNS = ["task", "scenario", "method", "UA", "RA", "TA", "MIA-efficacy", "gap", "cost"]


@dataclass
class Task:
    name: str
    train: Samples
    X_test: np.ndarray
    y_test: np.ndarray
    factory: Callable[[], nn.Module]
    n_classes: int


def cnn() -> nn.Module:
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 7 * 7, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def fashion(n_train: int) -> Task:
    from unlearnkit.datasets import load_fashion_mnist

    train_all, test_all = load_fashion_mnist("train"), load_fashion_mnist("test")
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(len(train_all), n_train, replace=False))
    test_rows = np.sort(rng.choice(len(test_all), FMNIST_TEST, replace=False))
    data = train_all.select(train_all.ids[rows])
    return Task("fashion-mnist", data, test_all.X[test_rows], test_all.y[test_rows], cnn, 10)


def adult() -> Task:
    from unlearnkit.datasets import load_adult

    train_all, test_all = load_adult("train"), load_adult("test")
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(len(train_all), ADULT_TRAIN, replace=False))
    test_rows = np.sort(rng.choice(len(test_all), ADULT_TEST, replace=False))
    X = train_all.X.to_numpy(dtype=np.float64)[rows]
    X_test = test_all.X.to_numpy(dtype=np.float64)[test_rows]
    numeric = [k for k, c in enumerate(train_all.X.columns) if "=" not in str(c)]
    mean, std = X[:, numeric].mean(0), X[:, numeric].std(0) + 1e-9
    X[:, numeric] = (X[:, numeric] - mean) / std
    X_test[:, numeric] = (X_test[:, numeric] - mean) / std
    data = Samples(X.astype(np.float32), y=train_all.y[rows], ids=train_all.ids[rows])

    def mlp() -> nn.Module:
        return nn.Sequential(nn.Linear(X.shape[1], 64), nn.ReLU(), nn.Linear(64, 2))

    return Task("adult", data, X_test.astype(np.float32), test_all.y[test_rows], mlp, 2)


_ORIGINALS: dict[tuple[str, int, int], tuple[nn.Module, TrainingReport]] = {}


def original(task: Task, seed: int) -> tuple[nn.Module, TrainingReport]:
    """The model trained on all of ``task.train`` with ``seed`` (trained once per run)."""
    key = (task.name, len(task.train), seed)
    if key not in _ORIGINALS:
        _ORIGINALS[key] = fit(task, seed)
    return _ORIGINALS[key]


def fit(task: Task, seed: int, **kw: Any) -> tuple[nn.Module, TrainingReport]:
    torch.manual_seed(seed)
    net = task.factory()
    report = train(
        net, task.train,
        config=TrainConfig(epochs=EPOCHS, batch_size=64), seed=seed, device="cpu", **kw,
    )  # fmt: skip
    return net, report


def proba(model: nn.Module, X: np.ndarray) -> np.ndarray:
    model.eval()
    with torch.no_grad():
        return torch.softmax(model(torch.as_tensor(X)), dim=1).numpy()


@dataclass
class Split:
    forget: np.ndarray  # training rows
    retain_eval: np.ndarray  # training rows (a sample of the retain set)
    test: np.ndarray  # test rows
    test_forget_class: np.ndarray  # test rows of the forgotten classes (class-wise only)
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def of(self, task: Task, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` of a split, built once so that cached outputs are reused."""
        if name not in self.arrays:
            source, rows = {
                "forget": ((task.train.X, task.train.y), self.forget),
                "retain": ((task.train.X, task.train.y), self.retain_eval),
                "test": ((task.X_test, task.y_test), self.test),
                "held_out": ((task.X_test, task.y_test), self.test_forget_class),
            }[name]
            self.arrays[name] = (source[0][rows], source[1][rows])
        return self.arrays[name]


class CachedTorch(TorchAdapter):
    """A PyTorch classifier whose outputs on an array are computed once (the metrics and
    attacks of one model read the same splits several times)."""

    def __init__(self, module: nn.Module, classes: np.ndarray) -> None:
        super().__init__(module, classes=classes)
        self._cache: dict[int, tuple[Any, np.ndarray]] = {}

    def logits(self, X: Any) -> np.ndarray:
        hit = self._cache.get(id(X))
        if hit is None or hit[0] is not X:
            hit = (X, super().logits(X))
            self._cache[id(X)] = hit
        return hit[1]


def clf(task: Task, model: nn.Module) -> Any:
    """The model as :mod:`unlearnkit.evaluate` sees it (all the task's classes)."""
    return CachedTorch(model, np.arange(task.n_classes))


def measure(task: Task, net: nn.Module, split: Split) -> dict[str, float]:
    model = clf(task, net)
    forget, retain, test = (split.of(task, k) for k in ("forget", "retain", "test"))
    out = utility_splits(model, forget=forget, retain=retain, test=test)
    out["MIA-efficacy"] = mia_efficacy(model, forget=forget, retain=retain, test=test).efficacy
    held_out = split.of(task, "held_out") if len(split.test_forget_class) else test
    out["LOSS-AUC"] = loss_threshold_attack(model, members=forget, nonmembers=held_out).auc
    return out


def scenario_split(task: Task, kind: str) -> tuple[ForgetRequest, Split]:
    rng = np.random.default_rng(1)
    y = task.train.y
    if kind == "random 10%":
        forget = np.sort(rng.choice(len(y), len(y) // 10, replace=False))
        request = ForgetRequest.items(task.train.ids[forget])
        test = np.arange(len(task.y_test))
        test_forget_class = np.zeros(0, dtype=int)
    else:
        forget = np.flatnonzero(y == 0)
        request = ForgetRequest.classes([0])
        test = np.flatnonzero(task.y_test != 0)
        test_forget_class = np.flatnonzero(task.y_test == 0)
    keep = np.setdiff1d(np.arange(len(y)), forget)
    retain_eval = np.sort(rng.choice(keep, min(RETAIN_EVAL, len(keep)), replace=False))
    return request, Split(forget, retain_eval, test, test_forget_class)


def summarise(values: list[float]) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values))


def run_scenario(task: Task, kind: str, names: list[str]) -> list[dict[str, Any]]:
    request, split = scenario_split(task, kind)
    forget_ids = task.train.ids[split.forget]
    pool_X = np.concatenate(
        [task.train.X[split.forget], task.train.X[split.retain_eval], task.X_test[split.test]]
    )
    pool_y = np.concatenate(
        [task.train.y[split.forget], task.train.y[split.retain_eval], task.y_test[split.test]]
    )
    n_f, n_r = len(split.forget), len(split.retain_eval)
    rows_f, rows_r = np.arange(n_f), np.arange(n_f, n_f + n_r)
    rows_t = np.arange(n_f + n_r, len(pool_y))
    per: dict[str, list[dict[str, Any]]] = {}
    probas: dict[str, list[np.ndarray]] = {}
    for seed in SEEDS:
        model0, report = original(task, seed)
        start = time.perf_counter()
        retrained, retrain_report = fit(task, seed, exclude=forget_ids)
        retrain_s = time.perf_counter() - start
        ref = measure(task, retrained, split)
        ref.update(
            seconds=retrain_s, cost=retrain_report.sample_gradients / report.sample_gradients
        )
        per.setdefault("retrain", []).append({**ref, "gap": 0.0})
        probas.setdefault("retrain", []).append(proba(retrained, pool_X))
        orig = measure(task, model0, split)
        per.setdefault("original", []).append(
            {**orig, "gap": average_gap(orig, ref), "seconds": 0.0, "cost": 0.0}
        )
        probas.setdefault("original", []).append(proba(model0, pool_X))
        for name in names:
            if request.kind not in methods.get(name).request_kinds:
                continue
            model, result = unlearn(
                model0, task.train, request, method=name, config=CONFIGS.get(name),
                seed=seed, device="cpu", training=report, batch_size=64,
            )  # fmt: skip
            got = measure(task, model, split)
            got.update(
                gap=average_gap(got, ref),
                seconds=result.seconds,
                time_ratio=result.seconds / retrain_s,
                cost=result.evidence["sample_gradients"] / retrain_report.sample_gradients,
                steps=result.evidence["gradient_steps"],
            )
            per.setdefault(name, []).append(got)
            probas.setdefault(name, []).append(proba(model, pool_X))
    retrained_outs = _outputs(probas["retrain"], len(pool_y))
    rows = []
    for name, runs in per.items():
        row: dict[str, Any] = {"task": task.name, "scenario": kind, "method": name}
        for key in ("UA", "RA", "TA", "MIA-efficacy", "LOSS-AUC", "gap", "seconds", "cost"):
            row[key], row[f"{key}_std"] = summarise([r[key] for r in runs])
        if "time_ratio" in runs[0]:
            row["time_ratio"] = summarise([r["time_ratio"] for r in runs])[0]
            row["steps"] = summarise([r["steps"] for r in runs])[0]
        if name != "retrain" and len(SEEDS) > 1:
            score = forgetting_score(
                y=pool_y, unlearned=_outputs(probas[name], len(pool_y)),
                retrained=retrained_outs, forget=rows_f, retain=rows_r, test=rows_t,
            )  # fmt: skip
            row["forgetting_score"] = score.score
            row["forgetting_quality"] = score.forgetting_quality
        row["within_goal"] = bool(
            name not in ("retrain", "original") and row["cost"] <= COST_GOAL
            and row["gap"] <= GAP_GOAL
        )  # fmt: skip
        rows.append(row)
    return rows


def _outputs(p: list[np.ndarray], n_pool: int) -> ModelOutputs:
    n = len(p)
    return ModelOutputs(
        proba=np.stack(p),
        trained=np.ones((n, n_pool), dtype=bool),
        forgotten=np.zeros((n, n_pool), dtype=bool),
        seeds=np.arange(n),
    )


def sequential(task: Task, names: list[str]) -> list[dict[str, Any]]:
    rng = np.random.default_rng(2)
    order = rng.choice(len(task.train), ROUND_SIZE * max(ROUNDS), replace=False)
    batches = order.reshape(max(ROUNDS), ROUND_SIZE)
    out = []
    test = (task.X_test, task.y_test)
    for seed in SEEDS:
        model0, report = original(task, seed)
        refs = {}
        for r in ROUNDS:
            gone = task.train.ids[batches[:r].ravel()]
            model, _ = fit(task, seed, exclude=gone)
            refs[r] = model
        for name in ["retrain", *names]:
            model, data = model0, task.train
            for r in range(1, max(ROUNDS) + 1):
                ids = task.train.ids[batches[r - 1]]
                if name != "retrain":
                    model, _ = unlearn(
                        model, data, ForgetRequest.items(ids), method=name,
                        config=CONFIGS.get(name), seed=seed, device="cpu", training=report,
                    )  # fmt: skip
                data = data.drop(ids)
                if r in ROUNDS:
                    current = refs[r] if name == "retrain" else model
                    rows = batches[:r].ravel()
                    keep = np.setdiff1d(np.arange(len(task.train)), rows)[:RETAIN_EVAL]
                    u = utility_splits(
                        clf(task, current),
                        forget=(task.train.X[rows], task.train.y[rows]),
                        retain=(task.train.X[keep], task.train.y[keep]),
                        test=test,
                    )
                    out.append({"method": name, "rounds": r, "seed": seed, **u})
    rows = []
    for name in ["retrain", *names]:
        for r in ROUNDS:
            runs = [o for o in out if o["method"] == name and o["rounds"] == r]
            row = {"task": task.name, "scenario": "sequential", "method": name, "rounds": r,
                   "forgotten": r * ROUND_SIZE}  # fmt: skip
            for key in ("UA", "RA", "TA"):
                row[key], row[f"{key}_std"] = summarise([o[key] for o in runs])
            rows.append(row)
    return rows


def poisoned(names: list[str]) -> list[dict[str, Any]]:
    task = fashion(POISON_TRAIN)
    trigger = Trigger.patch((28, 28), size=3, value=1.0)
    dirty, poison_ids = poison(task.train, trigger, fraction=POISON_RATE, target=0, seed=0)
    task = Task(task.name, dirty, task.X_test, task.y_test, task.factory, 10)
    X_trig = trigger.apply(task.X_test)
    out = []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        model, report = fit(task, seed)
        asr0 = backdoor_success_rate(clf(task, model), X_trig, 0, y_true=task.y_test)
        acc0 = float(np.mean(proba(model, task.X_test).argmax(1) == task.y_test))
        for frac in POISON_FRACTIONS:
            found = np.sort(rng.permutation(poison_ids)[: max(1, round(frac * len(poison_ids)))])
            request = ForgetRequest.items(found, reason="poison")
            for name in ["retrain", *names]:
                if name == "retrain":
                    new, _ = fit(task, seed, exclude=found)
                else:
                    if "items" not in methods.get(name).request_kinds:
                        continue
                    new, _ = unlearn(
                        model, task.train, request, method=name, config=CONFIGS.get(name),
                        seed=seed, device="cpu", training=report,
                    )  # fmt: skip
                out.append({
                    "method": name, "identified": frac, "seed": seed,
                    "ASR_before": asr0, "TA_before": acc0,
                    "ASR": backdoor_success_rate(clf(task, new), X_trig, 0, y_true=task.y_test),
                    "TA": float(np.mean(proba(new, task.X_test).argmax(1) == task.y_test)),
                })  # fmt: skip
    rows = []
    for name in ["retrain", *names]:
        for frac in POISON_FRACTIONS:
            runs = [o for o in out if o["method"] == name and o["identified"] == frac]
            if not runs:
                continue
            row: dict[str, Any] = {"task": "fashion-mnist (poisoned)", "scenario": "backdoor",
                                   "method": name, "identified": frac,
                                   "poisoned": len(poison_ids)}  # fmt: skip
            for key in ("ASR_before", "TA_before", "ASR", "TA"):
                row[key], row[f"{key}_std"] = summarise([o[key] for o in runs])
            rows.append(row)
    return rows


def plot(main: list[dict[str, Any]], seq: list[dict[str, Any]], path: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted({(r["task"], r["scenario"]) for r in main})
    fig, axes = plt.subplots(1, len(groups) + 1, figsize=(5.2 * (len(groups) + 1), 4.4))
    for ax, (task, scenario) in zip(axes, groups, strict=False):
        rows = [r for r in main if r["task"] == task and r["scenario"] == scenario
                and r["method"] not in ("retrain",)]  # fmt: skip
        for r in rows:
            ax.errorbar(100 * r["cost"], r["gap"], yerr=r["gap_std"], fmt="o", ms=4)
            ax.annotate(r["method"], (100 * r["cost"], r["gap"]), fontsize=7)
        ax.axvline(100 * COST_GOAL, ls=":", c="grey")
        ax.axhline(GAP_GOAL, ls=":", c="grey")
        ax.set(xlabel="cost, % of retraining's per-sample gradients",
               ylabel="average gap to retraining (points)",
               title=f"{task}: {scenario}")  # fmt: skip
    ax = axes[-1]
    for name in sorted({r["method"] for r in seq}):
        rows = sorted((r for r in seq if r["method"] == name), key=lambda r: r["rounds"])
        ax.errorbar([r["rounds"] for r in rows], [100 * r["TA"] for r in rows],
                    yerr=[100 * r["TA_std"] for r in rows], marker="o", label=name)  # fmt: skip
    ax.set(xscale="log", xlabel="sequential requests", ylabel="test accuracy (%)",
           title="utility under sequential requests")  # fmt: skip
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_poison(rows: list[dict[str, Any]], path: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.2))
    colours = plt.get_cmap("tab20").colors
    for k, name in enumerate(sorted({r["method"] for r in rows})):
        rs = sorted((r for r in rows if r["method"] == name), key=lambda r: r["identified"])
        x = [100 * r["identified"] for r in rs]
        style = (
            {"lw": 3, "c": "k"}
            if name == "retrain"
            else {"c": colours[k % len(colours)], "ls": ("-", "--")[k % 2]}
        )
        a.plot(x, [100 * r["ASR"] for r in rs], marker="o", label=name, **style)
        b.plot(x, [100 * r["TA"] for r in rs], marker="o", label=name, **style)
    a.set(xlabel="poisoned samples identified (%)", ylabel="attack success rate (%)",
          title="backdoor after unlearning")  # fmt: skip
    b.set(xlabel="poisoned samples identified (%)", ylabel="clean test accuracy (%)",
          title="utility after unlearning")  # fmt: skip
    handles, labels = a.get_legend_handles_labels()
    fig.legend(handles, labels, loc="center right", fontsize=8)
    fig.tight_layout(rect=(0, 0, 0.83, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    names = list(QUICK_METHODS) if QUICK else methods.names()
    try:
        tasks = [fashion(FMNIST_TRAIN)] + ([] if QUICK else [adult()])
        rows: list[dict[str, Any]] = []
        for task in tasks:
            kinds = ["random 10%"] + (["class-wise"] if task.name == "fashion-mnist" else [])
            for kind in kinds:
                rows += run_scenario(task, kind, names)
        fm = [
            r
            for r in rows
            if r["task"] == "fashion-mnist"
            and r["scenario"] == "random 10%"
            and r["method"] not in ("retrain", "original")
            and r["cost"] <= COST_GOAL
        ]
        best = [r["method"] for r in sorted(fm, key=lambda r: r["gap"])[:3]]
        seq = sequential(tasks[0], best)
        backdoor = poisoned(names)
    finally:
        torch.set_num_threads(threads)
    out = results_dir()
    out.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if QUICK else ""
    plot(rows, seq, out / f"approximate{suffix}.png")
    plot_poison(backdoor, out / f"approximate-poison{suffix}.png")
    goal = {
        f"{t} / {s}": bool(
            any(r["within_goal"] for r in rows if (r["task"], r["scenario"]) == (t, s))
        )
        for t, s in sorted({(r["task"], r["scenario"]) for r in rows})
    }
    write_results(
        "approximate",
        rows,
        goal=f"best method within {GAP_GOAL:g} points average gap of retraining at <= "
        f"{100 * COST_GOAL:g}% of its cost",
        columns=[
            "task",
            "scenario",
            "method",
            "UA",
            "RA",
            "TA",
            "MIA-efficacy",
            "LOSS-AUC",
            "gap",
            "gap_std",
            "forgetting_score",
            "cost",
            "time_ratio",
        ],
        seeds=list(SEEDS),
        forgetting_score_models=len(SEEDS),
        epochs=EPOCHS,
        configs={n: CONFIGS.get(n, {}) for n in names},
        sequential=seq,
        sequential_methods=best,
        backdoor=backdoor,
        goal_met=goal,
        figures=[f"approximate{suffix}.png", f"approximate-poison{suffix}.png"],
        torch_threads=1,
    )
    print(f"best three for sequential requests: {best}")
    for r in backdoor:
        print(
            f"backdoor {r['method']:24s} identified {r['identified']:.0%}: ASR "
            f"{r['ASR_before']:.2f} -> {r['ASR']:.2f}, TA {r['TA_before']:.3f} -> {r['TA']:.3f}"
        )


if __name__ == "__main__":
    main()
