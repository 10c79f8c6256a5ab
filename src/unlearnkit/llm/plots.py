"""The forget-quality / utility trade-off plot of benchmark rows (matplotlib, Agg)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["plot_tradeoff"]


def plot_tradeoff(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Scatter forget quality (log scale) against model utility, one colour per method.

    The dashed lines mark forget quality 0.05 and 90% of the original's utility.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    cmap = plt.get_cmap("tab10")
    original = next((r for r in rows if r["method"] == "original"), None)
    for i, m in enumerate(methods):
        pts = [r for r in rows if r["method"] == m]
        ax.scatter(
            [r["model_utility"] for r in pts],
            [max(r["forget_quality"], 1e-30) for r in pts],
            label=m,
            color=cmap(i % 10),
            marker="*" if m in ("original", "retain") else "o",
            s=120 if m in ("original", "retain") else 40,
        )
    ax.set_yscale("log")
    ax.axhline(0.05, ls="--", color="grey", lw=1)
    if original is not None:
        ax.axvline(0.9 * original["model_utility"], ls="--", color="grey", lw=1)
    ax.set_xlabel("model utility")
    ax.set_ylabel("forget quality (KS p-value)")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
