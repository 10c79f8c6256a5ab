r"""Metrics of LLM unlearning, each a small function of per-token log-probabilities.

Notation: an answer ``a = (a_1, ..., a_n)`` to a question ``q`` has token log-probabilities
``l_t = log p(a_t | q, a_<t)``.

* **Normalised probability** ``P(a|q)^(1/n) = exp((1/n) sum_t l_t)``.
* **Truth ratio** of a question with paraphrased answer ``â`` and perturbed answers
  ``ã_1..ã_m``: ``R = (prod_i P(ã_i|q)^(1/|ã_i|))^(1/m) / P(â|q)^(1/|â|)``, the geometric mean
  of the length-normalised probabilities of the wrong answers over that of the right one.
  ``R < 1``: the model prefers the truth; ``R ≈ 1``: it cannot tell.
* **Truth-ratio score** (utility side) ``mean_q max(0, 1 - R_q)``.
* **Forget quality**: p-value of the two-sample Kolmogorov-Smirnov test between the truth
  ratios of the forget questions under the unlearned model and under the retain-only model
  (``scipy.stats.ks_2samp``, two-sided). High: indistinguishable from never having trained.
* **Option probability** (general-knowledge sets): ``P(a|q)^(1/|a|) / (P(a|q)^(1/|a|) +
  sum_i P(ã_i|q)^(1/|ã_i|))``.
* **ROUGE-L recall**: ``LCS(pred, ref) / |ref|`` on lower-cased word tokens.
* **Model utility**: harmonic mean of the nine numbers {probability, ROUGE-L recall,
  truth-ratio score} x {retain, authors, world} (probability on retain is the normalised
  probability, on the general sets the option probability); zero when any is zero.
* **Exact memorisation** (Tirumala et al. 2022) ``EM = (1/n) sum_t [argmax_z p(z|q, a_<t) =
  a_t]``.
* **Extraction strength** (Carlini et al. 2021, as in OpenUnlearning) ``ES = 1 - k*/n`` with
  ``k*`` the smallest prefix length from which greedy decoding reproduces the rest of the
  answer, i.e. the smallest ``k`` with every teacher-forced prediction at positions ``>= k``
  correct (``k* = n`` when the last token is wrong).

Examples
--------
>>> import numpy as np
>>> from unlearnkit.llm.metrics import extraction_strength, truth_ratio
>>> round(truth_ratio(np.log([0.5, 0.5]), [np.log([0.25]), np.log([0.25])]), 6)
0.5
>>> extraction_strength(np.array([False, True, True, True]))
0.75
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from scipy.stats import ks_2samp

from unlearnkit.errors import DataValidationError

__all__ = [
    "exact_memorization",
    "extraction_strength",
    "forget_quality",
    "harmonic_mean",
    "normalized_probability",
    "option_probability",
    "rouge_l_recall",
    "truth_ratio",
    "truth_ratio_score",
]


def _nonempty(logp: np.ndarray, what: str) -> np.ndarray:
    arr = np.asarray(logp, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise DataValidationError(f"{what} needs a non-empty 1-D array of log-probabilities.")
    return arr


def normalized_probability(logp: np.ndarray) -> float:
    """``exp(mean(logp))``: the per-token geometric-mean probability of an answer."""
    return float(np.exp(_nonempty(logp, "normalized_probability").mean()))


def truth_ratio(paraphrase_logp: np.ndarray, perturbed_logps: Sequence[np.ndarray]) -> float:
    """``R = exp(mean_i mean_t l(ã_i) - mean_t l(â))`` (see the module docstring)."""
    if not perturbed_logps:
        raise DataValidationError("truth_ratio needs at least one perturbed answer.")
    right = _nonempty(paraphrase_logp, "truth_ratio").mean()
    wrong = np.mean([_nonempty(p, "truth_ratio").mean() for p in perturbed_logps])
    return float(np.exp(wrong - right))


def truth_ratio_score(ratios: np.ndarray) -> float:
    """``mean(max(0, 1 - R))`` over questions."""
    r = np.asarray(ratios, dtype=np.float64)
    if r.size == 0:
        raise DataValidationError("truth_ratio_score needs at least one truth ratio.")
    return float(np.mean(np.maximum(0.0, 1.0 - r)))


def forget_quality(unlearned_ratios: np.ndarray, retain_ratios: np.ndarray) -> float:
    """KS-test p-value between truth-ratio samples of the unlearned and retain-only models."""
    a = np.asarray(unlearned_ratios, dtype=np.float64)
    b = np.asarray(retain_ratios, dtype=np.float64)
    if a.size == 0 or b.size == 0:
        raise DataValidationError("forget_quality needs truth ratios from both models.")
    return float(ks_2samp(a, b).pvalue)


def option_probability(correct_logp: np.ndarray, wrong_logps: Sequence[np.ndarray]) -> float:
    """Share of the correct answer in the normalised probabilities of all options."""
    right = normalized_probability(correct_logp)
    return right / (right + sum(normalized_probability(w) for w in wrong_logps))


def harmonic_mean(values: Sequence[float]) -> float:
    """Harmonic mean; 0 when any value is 0 (values must be non-negative)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0 or np.any(v < 0):
        raise DataValidationError("harmonic_mean needs non-negative values.")
    if np.any(v == 0):
        return 0.0
    return float(v.size / np.sum(1.0 / v))


_WORD = re.compile(r"\w+")


def rouge_l_recall(prediction: str, reference: str) -> float:
    """ROUGE-L recall: longest common subsequence of words over the reference length."""
    pred = _WORD.findall(prediction.lower())
    ref = _WORD.findall(reference.lower())
    if not ref:
        raise DataValidationError("rouge_l_recall needs a reference with at least one word.")
    prev = [0] * (len(pred) + 1)
    for r in ref:
        cur = [0] * (len(pred) + 1)
        for j, p in enumerate(pred, start=1):
            cur[j] = prev[j - 1] + 1 if r == p else max(prev[j], cur[j - 1])
        prev = cur
    return prev[-1] / len(ref)


def exact_memorization(correct: np.ndarray) -> float:
    """Share of answer tokens the model predicts correctly under teacher forcing."""
    c = np.asarray(correct, dtype=bool)
    if c.size == 0:
        raise DataValidationError("exact_memorization needs at least one token.")
    return float(c.mean())


def extraction_strength(correct: np.ndarray) -> float:
    """``1 - k*/n``: how short a prefix suffices to extract the rest of the answer."""
    c = np.asarray(correct, dtype=bool)
    if c.size == 0:
        raise DataValidationError("extraction_strength needs at least one token.")
    wrong = np.flatnonzero(~c)
    k = 0 if wrong.size == 0 else int(wrong[-1]) + 1
    return 1.0 - k / c.size
