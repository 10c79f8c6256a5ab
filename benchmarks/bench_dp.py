"""DP-SGD accuracy against epsilon, and certified-head removal against refitting the head.

Data: two Fashion-MNIST classes, pullover vs coat. 2,000 of their 12,000 training images are
treated as public, together with the other eight classes (used only to train the extractor of
part 2); the other 10,000 are the private training rows of both parts. Test: the 2,000 test
images of the two classes. Pixels in [0, 1].

Part 1 (DP-SGD, Opacus). A multi-layer perceptron (784 -> 64 -> 2, ReLU) is trained with
:class:`~unlearnkit.certified.DPClassifier` at several target epsilons (``delta = 1e-5``, PRV
accountant, 10 epochs, expected batch 256, learning rate 1, clipping norm 1, ghost clipping),
three seeds each. Side by side, the baselines: the same network, epochs and batch size trained
without privacy by Adam (learning rate 1e-3; plain SGD at DP-SGD's rate diverges, as nothing
clips its steps, and at lower rates it is unstable from seed to seed on this pair), and a
scikit-learn logistic regression. Reported: test accuracy (mean and spread over seeds), the epsilon
spent, the noise multiplier, the training time, and how many removals each model covers by
group privacy at ``(4, 1e-3)`` (the classifier's default removal target). A plot of accuracy
against epsilon is written next to the JSON (``dp.png``).

Part 2 (certified head, Guo et al. 2020's recipe for deep models). A feature extractor
(784 -> 128 -> 32, ReLU) is trained without privacy on the public images (ten classes), and a
:class:`~unlearnkit.certified.CertifiedHead` with a
:class:`~unlearnkit.certified.CertifiedLogisticRegression` head (``lam = 1e-3``,
``sigma = 10``, ``epsilon = 1``, ``delta = 1e-4``) is fitted on the private rows' features
(normalised to unit norm). Sequential single-row removals are timed (the retrains the budget
forces included) against refitting the head from scratch on the retained rows' cached
features, and against refitting the whole :class:`CertifiedHead` (feature extraction
included); the ratios are the speed-ups. Its test accuracy is plotted next to DP-SGD's.

Without the Fashion-MNIST files, scikit-learn's digits (3 vs 8, public: the other digits) stand
in. ``UNLEARNKIT_BENCH_QUICK=1`` uses the digits, two epsilons, one seed and a few epochs.
BLAS and torch run on one thread, so that the figures do not depend on the machine's load.

Goals: DP-SGD within 5 accuracy points of the non-private MLP at epsilon = 4;
certified-head removals at least 100x faster than refitting the head on cached features (the
goal of the certified benchmark).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from benchmarks._common import _fmt as fmt
from benchmarks._common import best_time, quick, results_dir, write_results
from unlearnkit.certified import (
    CertifiedHead,
    CertifiedLogisticRegression,
    DPClassifier,
    covered_removals,
)
from unlearnkit.errors import DatasetNotFoundError

EPSILONS = (0.5, 2.0) if quick() else (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
SEEDS = (0,) if quick() else (0, 1, 2)
DELTA = 1e-5
REMOVAL_TARGET = (4.0, 1e-3)
HEAD_EPSILON, HEAD_DELTA = 1.0, 1e-4
REMOVALS = 20 if quick() else 200
#: Training images of the two private classes that are public (used for the extractor only).
PUBLIC_PAIR_ROWS = 2000


@dataclass
class Task:
    name: str
    X_train: np.ndarray  # private training rows
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_public: np.ndarray  # other classes: what the extractor is trained on
    y_public: np.ndarray
    epochs: int
    batch_size: int
    lr: float


def fashion() -> Task | None:
    if quick():
        return None
    try:
        from unlearnkit.datasets import load_fashion_mnist

        train = load_fashion_mnist("train", download=False)
        test = load_fashion_mnist("test", download=False)
    except DatasetNotFoundError:
        return None
    private = (2, 4)  # pullover vs coat
    te = np.isin(test.y, private)
    # public: the other eight classes and PUBLIC_SHARE of the two classes' training images;
    # private: the rest of the two classes' training images (disjoint from the public ones)
    pair = np.flatnonzero(np.isin(train.y, private))
    shared = np.random.default_rng(0).choice(pair, size=PUBLIC_PAIR_ROWS, replace=False)
    tr = np.zeros(len(train.y), dtype=bool)
    tr[np.setdiff1d(pair, shared)] = True
    public = ~tr
    y_pub = train.y[public]
    return Task(
        "fashion-mnist pullover vs coat",
        np.asarray(train.X[tr], dtype=np.float32),
        (train.y[tr] == private[1]).astype(np.int64),
        np.asarray(test.X[te], dtype=np.float32),
        (test.y[te] == private[1]).astype(np.int64),
        np.asarray(train.X[public], dtype=np.float32),
        y_pub.astype(np.int64),
        epochs=10,
        batch_size=256,
        lr=1.0,
    )


def digits() -> Task:
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    private = np.isin(y, (3, 8))
    X_tr, X_te, y_tr, y_te = train_test_split(
        X[private], (y[private] == 8).astype(np.int64), test_size=0.3, random_state=0
    )
    _, y_pub = np.unique(y[~private], return_inverse=True)
    return Task(
        "digits 3 vs 8",
        X_tr,
        y_tr,
        X_te,
        y_te,
        X[~private],
        y_pub.astype(np.int64),
        epochs=3 if quick() else 20,
        batch_size=32,
        lr=0.5,
    )


def nonprivate(task: Task, seed: int) -> Any:
    """The same network, epochs and batch size trained without privacy (Adam, learning rate
    1e-3, shuffled epochs): the baseline DP-SGD is compared with."""
    import torch

    from unlearnkit.certified import mlp

    torch.manual_seed(seed)
    net = mlp(task.X_train.shape[1], 2)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    X, y = torch.as_tensor(task.X_train), torch.as_tensor(task.y_train)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(task.epochs):
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), task.batch_size):
            idx = order[start : start + task.batch_size]
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(net(X[idx]), y[idx]).backward()
            optimizer.step()
    return net


def accuracy_of(net: Any, X: np.ndarray, y: np.ndarray) -> float:
    import torch

    with torch.no_grad():
        return float((net(torch.as_tensor(X)).argmax(dim=1).numpy() == y).mean())


def dp_curve(task: Task) -> list[dict[str, Any]]:
    rows = []
    accs, secs = [], []
    for seed in SEEDS:
        start = time.perf_counter()
        net = nonprivate(task, seed)
        secs.append(time.perf_counter() - start)
        accs.append(accuracy_of(net, task.X_test, task.y_test))
    rows.append(
        {
            "dataset": task.name,
            "method": "MLP, Adam (non-private)",
            "target_epsilon": None,  # no privacy
            "epsilon_spent": None,
            "noise_multiplier": 0.0,
            "accuracy_mean": float(np.mean(accs)),
            "accuracy_std": float(np.std(accs)),
            "train_s": float(np.mean(secs)),
            "covered_removals": 0,
        }
    )
    start = time.perf_counter()
    logistic = LogisticRegression(max_iter=2000).fit(task.X_train, task.y_train)
    rows.append(
        {
            "dataset": task.name,
            "method": "logistic regression, scikit-learn (non-private)",
            "target_epsilon": None,
            "epsilon_spent": None,
            "noise_multiplier": 0.0,
            "accuracy_mean": float(logistic.score(task.X_test, task.y_test)),
            "accuracy_std": 0.0,
            "train_s": time.perf_counter() - start,
            "covered_removals": 0,
        }
    )
    baseline = rows[0]["accuracy_mean"]
    for eps in EPSILONS:
        accs, secs, spent, noise = [], [], [], []
        for seed in SEEDS:
            model = DPClassifier(
                epsilon=eps,
                delta=DELTA,
                accountant="prv",
                epochs=task.epochs,
                batch_size=task.batch_size,
                lr=task.lr,
                removal_epsilon=REMOVAL_TARGET[0],
                removal_delta=REMOVAL_TARGET[1],
                random_state=seed,
            )
            start = time.perf_counter()
            model.fit(task.X_train, task.y_train)
            secs.append(time.perf_counter() - start)
            accs.append(model.score(task.X_test, task.y_test))
            spent.append(model.privacy_.epsilon)
            noise.append(model.privacy_.noise_multiplier)
        rows.append(
            {
                "dataset": task.name,
                "method": "DP-SGD (Opacus)",
                "target_epsilon": eps,
                "epsilon_spent": float(np.max(spent)),
                "noise_multiplier": float(np.mean(noise)),
                "accuracy_mean": float(np.mean(accs)),
                "accuracy_std": float(np.std(accs)),
                "accuracy_gap_points": 100 * (float(np.mean(accs)) - baseline),
                "lr": task.lr,
                "train_s": float(np.mean(secs)),
                "covered_removals": covered_removals(float(np.max(spent)), DELTA, *REMOVAL_TARGET),
            }
        )
    return rows


def public_extractor(task: Task) -> Any:
    """An MLP trained without privacy on the public classes; its hidden layers are the
    extractor (the classification layer is dropped)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    body = nn.Sequential(nn.Linear(task.X_public.shape[1], 128), nn.ReLU(), nn.Linear(128, 32))
    net = nn.Sequential(body, nn.ReLU(), nn.Linear(32, int(task.y_public.max()) + 1))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    X, y = torch.as_tensor(task.X_public), torch.as_tensor(task.y_public)
    generator = torch.Generator().manual_seed(0)
    for _ in range(2 if quick() else 5):
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), 128):
            idx = order[start : start + 128]
            optimizer.zero_grad()
            nn.functional.cross_entropy(net(X[idx]), y[idx]).backward()
            optimizer.step()
    return body.eval()


def head_removals(task: Task) -> dict[str, Any]:
    extractor = public_extractor(task)
    lam, sigma = 1e-3, 10.0

    def head(seed: int) -> CertifiedLogisticRegression:
        return CertifiedLogisticRegression(
            lam, epsilon=HEAD_EPSILON, delta=HEAD_DELTA, sigma=sigma, random_state=seed
        )

    ids = np.arange(len(task.X_train))
    start = time.perf_counter()
    model = CertifiedHead(extractor, head(0)).fit(task.X_train, task.y_train, sample_ids=ids)
    fit_s = time.perf_counter() - start
    accuracy_before = model.score(task.X_test, task.y_test)
    order = np.random.default_rng(1).permutation(ids)[:REMOVALS]
    seconds, retrains = [], 0
    for i in order:
        start = time.perf_counter()
        result = model.unlearn([int(i)])
        seconds.append(time.perf_counter() - start)
        retrains += bool(result.evidence["retrained"])
    keep = np.isin(ids, model.sample_ids_)
    features = model.features(task.X_train[keep])
    seeds = iter(range(1, 100))
    head_refit_s = best_time(lambda: head(next(seeds)).fit(features, task.y_train[keep]), 3)
    full_refit_s = best_time(
        lambda: CertifiedHead(extractor, head(next(seeds))).fit(
            task.X_train[keep], task.y_train[keep]
        ),
        3,
    )
    per_removal = float(np.mean(seconds))
    return {
        "dataset": task.name,
        "n_train": len(task.X_train),
        "features": model.n_extracted_features_,
        "lam": lam,
        "sigma": sigma,
        "epsilon": HEAD_EPSILON,
        "delta": HEAD_DELTA,
        "removals": REMOVALS,
        "retrains": retrains,
        "fit_s": fit_s,
        "removal_s_mean": per_removal,
        "removal_s_median": float(np.median(seconds)),
        "head_refit_s": head_refit_s,
        "full_refit_s": full_refit_s,
        "speedup_vs_head_refit": head_refit_s / per_removal,
        "speedup_vs_full_refit": full_refit_s / per_removal,
        "accuracy_before": accuracy_before,
        "accuracy_after": model.score(task.X_test, task.y_test),
        "goal_met": bool(head_refit_s / per_removal >= 100),
    }


def plot(rows: list[dict[str, Any]], head: dict[str, Any], path: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dp = [r for r in rows if r["method"].startswith("DP-SGD")]
    base = rows[0]  # the non-private MLP
    fig, ax = plt.subplots(figsize=(6, 4))
    eps = [r["epsilon_spent"] for r in dp]
    acc = np.array([r["accuracy_mean"] for r in dp])
    std = np.array([r["accuracy_std"] for r in dp])
    ax.errorbar(eps, acc, yerr=std, marker="o", capsize=3, label="DP-SGD (Opacus, PRV)")
    ax.axhline(base["accuracy_mean"], color="grey", linestyle="--", label="same MLP, non-private")
    ax.plot(
        [head["epsilon"]],
        [head["accuracy_before"]],
        marker="*",
        markersize=12,
        linestyle="none",
        label=f"certified head on a public extractor (delta = {head['delta']:g})",
    )
    ax.set_xscale("log")
    ax.set_xticks(eps, [f"{e:.2g}" for e in eps])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel(f"epsilon (delta = {DELTA:g} for DP-SGD)")
    ax.set_ylabel("test accuracy")
    ax.set_title(rows[0]["dataset"])
    ax.legend(loc="lower right")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def print_head(head: dict[str, Any]) -> None:
    columns = [
        "dataset",
        "n_train",
        "features",
        "removals",
        "retrains",
        "removal_s_mean",
        "head_refit_s",
        "full_refit_s",
        "speedup_vs_head_refit",
        "speedup_vs_full_refit",
        "accuracy_before",
        "accuracy_after",
    ]
    table = Table(title="certified head: removal vs refit")
    for col in columns:
        table.add_column(col, justify="right")
    table.add_row(*(fmt(head[col]) for col in columns))
    Console().print(table)


def main() -> None:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            task = fashion() or digits()
            rows = dp_curve(task)
            head = head_removals(task)
    finally:
        torch.set_num_threads(threads)
    print_head(head)
    out = results_dir()
    out.mkdir(parents=True, exist_ok=True)
    figure = out / f"dp{'-quick' if quick() else ''}.png"
    plot(rows, head, figure)
    at_4 = [r for r in rows if r["target_epsilon"] == 4.0]
    dp_goal = bool(at_4) and abs(at_4[0]["accuracy_gap_points"]) <= 5.0
    write_results(
        "dp",
        rows,
        goal="DP-SGD within 5 accuracy points of the non-private MLP at epsilon 4; certified-head "
        "removals >= 100x faster than refitting the head",
        columns=[
            "dataset",
            "method",
            "target_epsilon",
            "epsilon_spent",
            "noise_multiplier",
            "accuracy_mean",
            "accuracy_std",
            "train_s",
            "covered_removals",
        ],
        delta=DELTA,
        seeds=list(SEEDS),
        removal_target={"epsilon": REMOVAL_TARGET[0], "delta": REMOVAL_TARGET[1]},
        torch_threads=1,
        blas_threads=1,
        certified_head=head,
        figure=figure.name,
        goal_met=bool(dp_goal and head["goal_met"]) if at_4 else bool(head["goal_met"]),
    )


if __name__ == "__main__":
    main()
