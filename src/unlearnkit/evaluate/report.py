"""The audit's result: a verdict with its reason, metrics, per-sample scores, JSON and HTML.

Examples
--------
>>> r = AuditReport(verdict="inconclusive", reason="too few samples", confidence=0.0,
...                 metrics={"TA": 0.9})
>>> r.passed, '"verdict": "inconclusive"' in r.to_json()
(False, True)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from unlearnkit.evaluate.forgetting import ForgettingScore
from unlearnkit.evaluate.roc import AttackResult
from unlearnkit.evaluate.symptoms import DeletionCurve
from unlearnkit.reporting import HtmlReport, jsonable, new_figure

__all__ = ["AuditReport", "Verdict"]

Verdict = Literal["forgotten", "not_forgotten", "inconclusive"]


@dataclass
class AuditReport:
    """What an audit found.

    Attributes
    ----------
    verdict : {"forgotten", "not_forgotten", "inconclusive"}
    reason : str
        Why, in a sentence a person can act on.
    confidence : float
        For ``not_forgotten``: one minus the (Bonferroni-adjusted) p-value of the strongest
        attack's excess over the reference. For ``forgotten``: one minus the largest adjusted
        p-value of the equivalence tests. 0 for ``inconclusive``.
    metrics : dict of str to float
        Utility (UA, RA, TA), fidelity to the reference, attack AUCs and TPRs, scores.
    per_sample : dict of str to dict
        Per forget sample, keyed by sample id: losses, attack scores, epsilon.
    attacks : dict
        The attack results on the unlearned model and on the reference (name -> side -> result).
    forgetting : ForgettingScore, optional
        The NeurIPS-2023 score, when computed.
    deletions : DeletionCurve, optional
        Utility as deletions accumulate, when computed.
    notes : list of str
        Checks that were skipped and why.
    evidence : list of dict
        Per attack: AUC on the model and the reference, difference, standard error, p-values.
    seconds : dict of str to float
        Wall-clock time of each check (shadow training counted separately).

    Examples
    --------
    >>> r = AuditReport(verdict="forgotten", reason="all attacks at the reference", confidence=1.0)
    >>> r.passed, "<h1>Unlearning audit</h1>" in r.to_html()
    (True, True)
    """

    verdict: Verdict
    reason: str
    confidence: float
    metrics: dict[str, float] = field(default_factory=dict)
    per_sample: dict[str, dict[Any, float]] = field(default_factory=dict)
    attacks: dict[str, dict[str, AttackResult]] = field(default_factory=dict)
    forgetting: ForgettingScore | None = None
    deletions: DeletionCurve | None = None
    notes: list[str] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True only for the verdict ``forgotten``."""
        return self.verdict == "forgotten"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (NaN as None; per-sample ids as strings)."""
        out = {
            "verdict": self.verdict,
            "reason": self.reason,
            "confidence": self.confidence,
            "metrics": self.metrics,
            "evidence": self.evidence,
            "attacks": {
                name: {side: r.summary() for side, r in sides.items()}
                for name, sides in self.attacks.items()
            },
            "forgetting_score": None if self.forgetting is None else self.forgetting.summary(),
            "deletions": None if self.deletions is None else self.deletions.rows(),
            "per_sample": {
                name: {str(k): v for k, v in values.items()}
                for name, values in self.per_sample.items()
            },
            "notes": self.notes,
            "seconds": self.seconds,
        }
        return dict(jsonable(out))

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int = 2) -> str:
        """The report as JSON; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """A self-contained HTML page with the verdict, tables and plots.

        Plots: ROC curves of each attack on the unlearned model and on the reference, the
        per-example epsilon histogram, and utility against the number of deletions.
        """
        report = HtmlReport(
            "Unlearning audit",
            subtitle=f"Verdict: {self.verdict} (confidence {self.confidence:.3f})",
            data=self.to_dict(),
        )
        head = report.section("Verdict").paragraph(self.reason)
        for note in self.notes:
            head.paragraph(f"Note: {note}")
        if self.evidence:
            report.section("Evidence").table(
                self.evidence, caption="Attack AUC, model vs reference"
            )
        report.section("Metrics").metrics(self.metrics)
        if self.attacks:
            report.section("Membership inference: ROC curves").figure(
                self._roc_figure(), caption="Forget set (positives) vs held-out data (negatives)"
            )
        if self.forgetting is not None:
            sec = report.section("NeurIPS 2023 forgetting score")
            sec.metrics(self.forgetting.summary())
            sec.figure(self._epsilon_figure(), caption="Per-example epsilon")
        if self.deletions is not None:
            sec = report.section("Utility as deletions accumulate")
            sec.table(self.deletions.rows())
            sec.figure(self._deletions_figure(), caption="Accuracy after sequential deletions")
        html = report.to_html()
        if path is not None:
            report.write_html(path)
        return html

    def _roc_figure(self) -> Any:
        n = len(self.attacks)
        fig = new_figure(3.2 * n, 3.2)
        axes = fig.subplots(1, n, squeeze=False)[0]
        for ax, (name, sides) in zip(axes, self.attacks.items(), strict=True):
            for side, result in sides.items():
                fpr, tpr = result.roc_curve()
                ax.plot(fpr, tpr, label=f"{side} (AUC {result.auc:.3f})")
            ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
            ax.set_title(name, fontsize=9)
            ax.set_xlabel("FPR")
            ax.set_ylabel("TPR")
            ax.legend(fontsize=7, loc="lower right")
        return fig

    def _epsilon_figure(self) -> Any:
        assert self.forgetting is not None
        fig = new_figure(5, 3)
        ax = fig.subplots()
        eps = self.forgetting.epsilon
        ax.hist(eps, bins=np.arange(0, max(float(eps.max()), 0.5) + 0.5, 0.5).tolist())
        ax.set_xlabel("per-example epsilon")
        ax.set_ylabel("forget examples")
        return fig

    def _deletions_figure(self) -> Any:
        assert self.deletions is not None
        d = self.deletions
        fig = new_figure(5, 3)
        ax = fig.subplots()
        ax.plot(d.n_deleted, d.test_accuracy, marker="o", label="test (unlearned)")
        ax.plot(d.n_deleted, d.retain_accuracy, marker="s", label="retain (unlearned)")
        if not np.all(np.isnan(d.reference_test_accuracy)):
            ax.plot(d.n_deleted, d.reference_test_accuracy, marker="^", label="test (retrained)")
        ax.set_xscale("log")
        ax.set_xlabel("sequential deletions")
        ax.set_ylabel("accuracy")
        ax.legend(fontsize=8)
        return fig
