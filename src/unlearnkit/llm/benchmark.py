"""The offline TOFU-style benchmark: data, tokenizer, the full and retain-only tiny models
(trained once and cached on disk) and a runner that scores unlearning methods against them.

The cache lives in ``cache_dir`` (default :func:`~unlearnkit.llm.model.default_cache_dir`,
overridable with ``$UNLEARNKIT_CACHE``), in a folder named after a hash of the configuration,
so a changed recipe never loads a stale model.

Compute is counted in *token passes*: a token through a forward and backward pass costs 3, a
token through a forward pass only (a frozen reference model) costs 1. Retraining the retain-only
model costs ``3 * TrainReport.tokens``; a method's ``compute_ratio`` is its cost over that.

Examples
--------
>>> import tempfile, torch
>>> from unlearnkit.llm.benchmark import BenchmarkConfig, TofuBenchmark
>>> torch.set_num_threads(1)
>>> bench = TofuBenchmark(BenchmarkConfig.tiny(), cache_dir=tempfile.mkdtemp())
>>> rows = bench.run(["grad_diff"], seeds=[0], relearn_check=False, quantize_check=False)
>>> [r["method"] for r in rows]
['original', 'retain', 'grad_diff']
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from unlearnkit.errors import InvalidParameterError
from unlearnkit.llm.corpus import TextExample
from unlearnkit.llm.evaluate import ModelScores, compare, score_model, score_set
from unlearnkit.llm.metrics import forget_quality
from unlearnkit.llm.model import (
    TinyLMConfig,
    TrainConfig,
    TrainReport,
    build_tiny_lm,
    default_cache_dir,
    device_count,
    train_lm,
    train_tokenizer,
)
from unlearnkit.llm.objectives import (
    DPOConfig,
    GradAscentConfig,
    GradDiffConfig,
    KLGradDiffConfig,
    NPOConfig,
    RMUConfig,
    SimNPOConfig,
    UnlearnConfig,
    llm_methods,
)
from unlearnkit.llm.robustness import RelearnResult, quantize_int8, relearn
from unlearnkit.llm.tofu import SPLITS, TofuConfig, TofuData, make_tofu
from unlearnkit.llm.unlearn import unlearn_examples

__all__ = ["DEFAULT_METHOD_CONFIGS", "BenchmarkConfig", "TofuBenchmark"]

#: Settings of each method on the benchmark, chosen by a small grid search on unlearning seed
#: 100 of the forget10 split of the default :class:`BenchmarkConfig` (three epochs keep every
#: method under 5% of retraining compute).
DEFAULT_METHOD_CONFIGS: dict[str, UnlearnConfig] = {
    "grad_ascent": GradAscentConfig(epochs=3, learning_rate=1e-3),
    "grad_diff": GradDiffConfig(epochs=3, learning_rate=1e-3, alpha=3.0),
    "kl_grad_diff": KLGradDiffConfig(epochs=3, learning_rate=1e-3, alpha=3.0),
    "dpo": DPOConfig(epochs=3, learning_rate=2e-3, beta=0.1),
    "npo": NPOConfig(epochs=3, learning_rate=1e-3, alpha=10.0),
    "simnpo": SimNPOConfig(epochs=3, learning_rate=4e-3),
    "rmu": RMUConfig(epochs=3, learning_rate=3e-3, steering=20.0),
}


@dataclass(frozen=True)
class BenchmarkConfig:
    """Recipe of the benchmark: data, model shape, training, tokenizer size.

    ``general_repeats``: how many times the general-knowledge sets appear in training.
    """

    tofu: TofuConfig = field(default_factory=lambda: TofuConfig(n_people=50, n_holdout=10))
    model: TinyLMConfig = field(default_factory=lambda: TinyLMConfig(n_embd=64))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=20))
    vocab_size: int = 1024
    general_repeats: int = 2
    n_retain_eval: int = 200
    n_generate: int = 50

    @classmethod
    def tiny(cls) -> BenchmarkConfig:
        """A seconds-sized configuration for tests and quick runs."""
        return cls(
            tofu=TofuConfig(n_people=10, n_holdout=2, n_authors=4, n_countries=3),
            model=TinyLMConfig(n_layer=1, n_embd=32, n_head=2),
            train=TrainConfig(epochs=6, batch_size=32, learning_rate=5e-3, warmup_steps=2),
            vocab_size=300,
            general_repeats=1,
            n_retain_eval=20,
            n_generate=5,
        )

    def key(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class TofuBenchmark:
    """Data, tokenizer and models of the benchmark, built on first use and cached.

    Parameters
    ----------
    config : BenchmarkConfig, optional
    cache_dir : path, optional
        Where models are kept (default: ``$UNLEARNKIT_CACHE`` or ``~/.cache/unlearnkit/llm``).

    Examples
    --------
    See the module docstring.
    """

    def __init__(
        self, config: BenchmarkConfig | None = None, cache_dir: str | Path | None = None
    ) -> None:
        self.config = config or BenchmarkConfig()
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.data: TofuData = make_tofu(self.config.tofu)
        self._tokenizer: Any = None
        self._models: dict[str, tuple[Any, TrainReport]] = {}
        self._baselines: dict[str, tuple[ModelScores, ModelScores]] = {}

    @property
    def folder(self) -> Path:
        return self.cache_dir / f"tofu-{self.config.key()}"

    @property
    def tokenizer(self) -> Any:
        from transformers import PreTrainedTokenizerFast

        if self._tokenizer is None:
            path = self.folder / "tokenizer"
            if (path / "tokenizer.json").exists():
                self._tokenizer = PreTrainedTokenizerFast.from_pretrained(path)
            else:
                every = list(self.data.corpus()) + self.data.holdout()
                self._tokenizer = train_tokenizer(every, self.config.vocab_size)
                self._tokenizer.save_pretrained(path)
        return self._tokenizer

    def training_examples(self, split: str | None = None) -> list[TextExample]:
        """The training stream: people (all, or the retain people of ``split``) and the
        general sets ``general_repeats`` times."""
        if split is not None and split not in SPLITS:
            raise InvalidParameterError(f"split={split!r} is not one of {sorted(SPLITS)}.")
        people = list(self.data.corpus(split))[: -len(self.data.general())]
        return people + self.data.general() * self.config.general_repeats

    def model(self, split: str | None = None) -> tuple[Any, TrainReport]:
        """The full model (``split=None``) or the retain-only model of ``split``, with the
        report of its training; trained with the same recipe and cached."""
        from transformers import GPT2LMHeadModel

        name = "full" if split is None else f"retain-{split}"
        if name in self._models:
            return self._models[name]
        path = self.folder / name
        report_path = path / "train_report.json"
        if report_path.exists():
            model = GPT2LMHeadModel.from_pretrained(path)
            report = TrainReport(**json.loads(report_path.read_text()))
        else:
            model = build_tiny_lm(self.tokenizer, self.config.model)
            report = train_lm(
                model, self.tokenizer, self.training_examples(split), self.config.train
            )
            model.save_pretrained(path)
            report_path.write_text(json.dumps(report.to_dict(), indent=2))
        model.eval()
        self._models[name] = (model, report)
        return model, report

    def score(self, model: Any, split: str) -> ModelScores:
        return score_model(
            model,
            self.tokenizer,
            self.data,
            split,
            n_retain=self.config.n_retain_eval,
            n_generate=self.config.n_generate,
        )

    def run(
        self,
        methods: list[str],
        *,
        seeds: list[int] | tuple[int, ...] = (0,),
        split: str = "forget10",
        configs: dict[str, UnlearnConfig] | None = None,
        relearn_check: bool = True,
        quantize_check: bool = True,
    ) -> list[dict[str, Any]]:
        """Unlearn ``split`` with each method and seed; one row per run plus the two baselines.

        Each row has ``forget_quality``, ``model_utility``, ``utility_ratio`` (over the
        original's), ``privleak``, ``relearn_recovery``, ``int8_forget_quality``,
        ``compute_ratio`` (over retraining the retain-only model), cost in ``tokens`` and
        ``steps``, and ``seed``, ``batch_size`` and ``device_count``.
        """
        for m in methods:
            llm_methods.get(m)
        configs = {**DEFAULT_METHOD_CONFIGS, **(configs or {})}
        for m in methods:
            configs.setdefault(m, llm_methods.get(m).config_cls())
        tok = self.tokenizer
        full, _ = self.model(None)
        retain_model, retain_report = self.model(split)
        retrain_units = 3 * retain_report.tokens
        if split not in self._baselines:
            self._baselines[split] = (self.score(full, split), self.score(retain_model, split))
        orig, ref = self._baselines[split]
        base = compare(orig, ref)
        forget = self.data.forget(split)
        retain = self.data.retain(split) + self.data.general()
        rows = [
            self._row("original", None, base, base["model_utility"], retain_report),
            self._row("retain", None, compare(ref, ref), base["model_utility"], retain_report)
            | {"compute_ratio": 1.0, "tokens": retain_report.tokens, "steps": retain_report.steps},
        ]
        base_relearn: RelearnResult | None = None
        for method in methods:
            for seed in seeds:
                cfg = replace(configs[method], seed=seed)
                start = time.perf_counter()
                model, ev = unlearn_examples(full, tok, forget, retain, method, cfg)
                seconds = time.perf_counter() - start
                res = compare(self.score(model, split), ref)
                row = self._row(method, cfg, res, base["model_utility"], retain_report)
                row |= {
                    "seed": seed,
                    "batch_size": cfg.batch_size,
                    "tokens": ev["tokens"],
                    "reference_tokens": ev["reference_tokens"],
                    "steps": ev["steps"],
                    "compute_ratio": ev["compute_units"] / retrain_units,
                    "seconds": seconds,
                }
                if relearn_check:
                    rl = relearn(model, full, tok, forget)
                    if base_relearn is None:
                        base_relearn = relearn(retain_model, full, tok, forget)
                    row["relearn_recovery"] = rl.recovery
                    row["relearn_probability"] = rl.relearned
                    row["relearn_probability_retain_model"] = base_relearn.relearned
                if quantize_check:
                    q = score_set(quantize_int8(model), tok, forget, n_generate=0)
                    row["int8_forget_quality"] = forget_quality(
                        q.truth_ratios, ref.forget.truth_ratios
                    )
                    row["int8_forget_probability"] = float(q.probability.mean())
                rows.append(row)
        return rows

    def _row(
        self,
        method: str,
        cfg: UnlearnConfig | None,
        res: dict[str, Any],
        original_utility: float,
        retain_report: TrainReport,
    ) -> dict[str, Any]:
        return {
            "method": method,
            "lora": bool(cfg is not None and cfg.lora is not None),
            "forget_quality": res["forget_quality"],
            "model_utility": res["model_utility"],
            "utility_ratio": (
                res["model_utility"] / original_utility if original_utility > 0 else float("nan")
            ),
            "privleak": res["privleak"],
            "forget_probability": res["forget_probability"],
            "forget_rouge": res["forget_rouge"],
            "forget_truth_ratio": res["forget_truth_ratio"],
            "forget_extraction_strength": res["forget_extraction_strength"],
            "forget_exact_memorization": res["forget_exact_memorization"],
            "mia_auc": res["mia_auc"],
            "seed": cfg.seed if cfg is not None else self.config.train.seed,
            "batch_size": cfg.batch_size if cfg is not None else retain_report.batch_size,
            "device_count": device_count(),
            "config": cfg.to_dict() if cfg is not None else None,
        }
