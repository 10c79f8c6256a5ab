"""Unlearning in Hugging Face causal language models, and an offline TOFU-style benchmark.

* :class:`LMUnlearner` / :func:`unlearn_examples`: GradAscent, GradDiff, KL-GradDiff,
  DPO/IdkPO, NPO, SimNPO and RMU on any ``transformers`` causal LM, full weights or LoRA
  (``peft``); the original weights are never changed.
* :mod:`~unlearnkit.llm.tofu`: fictitious people, their questions, forget splits, holdout and
  general-knowledge sets, generated deterministically.
* :mod:`~unlearnkit.llm.metrics`, :mod:`~unlearnkit.llm.attacks`,
  :mod:`~unlearnkit.llm.robustness`: truth ratio, forget quality, model utility, ROUGE-L,
  extraction strength, exact memorisation, LOSS/zlib/Min-K%/Min-K%++ and PrivLeak, relearning
  and int8 checks.
* :class:`TofuBenchmark`: tokenizer and tiny GPT-2 models trained from scratch on the CPU and
  cached, and a runner that scores methods against the retain-only model.

Needs the ``llm`` extra (torch, transformers, peft, tokenizers).
"""

from unlearnkit.llm.benchmark import DEFAULT_METHOD_CONFIGS, BenchmarkConfig, TofuBenchmark
from unlearnkit.llm.corpus import TextCorpus, TextExample, read_examples
from unlearnkit.llm.errors import (
    EmptyRetainError,
    ForgetSetNotInCorpusError,
    LoRAUnsupportedError,
    MissingPadTokenError,
    NotACausalLMError,
)
from unlearnkit.llm.model import (
    TinyLMConfig,
    TrainConfig,
    TrainReport,
    build_tiny_lm,
    default_cache_dir,
    model_checksum,
    train_lm,
    train_tokenizer,
)
from unlearnkit.llm.objectives import (
    DPOConfig,
    GradAscentConfig,
    GradDiffConfig,
    KLGradDiffConfig,
    LoRAOptions,
    NPOConfig,
    RMUConfig,
    SimNPOConfig,
    UnlearnConfig,
    llm_methods,
)
from unlearnkit.llm.tofu import TofuConfig, TofuData, make_tofu
from unlearnkit.llm.unlearn import LMUnlearner, unlearn_examples

__all__ = [
    "DEFAULT_METHOD_CONFIGS",
    "BenchmarkConfig",
    "DPOConfig",
    "EmptyRetainError",
    "ForgetSetNotInCorpusError",
    "GradAscentConfig",
    "GradDiffConfig",
    "KLGradDiffConfig",
    "LMUnlearner",
    "LoRAOptions",
    "LoRAUnsupportedError",
    "MissingPadTokenError",
    "NPOConfig",
    "NotACausalLMError",
    "RMUConfig",
    "SimNPOConfig",
    "TextCorpus",
    "TextExample",
    "TinyLMConfig",
    "TofuBenchmark",
    "TofuConfig",
    "TofuData",
    "TrainConfig",
    "TrainReport",
    "UnlearnConfig",
    "build_tiny_lm",
    "default_cache_dir",
    "llm_methods",
    "make_tofu",
    "model_checksum",
    "read_examples",
    "train_lm",
    "train_tokenizer",
    "unlearn_examples",
]
