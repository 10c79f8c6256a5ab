"""``unlearnkit llm``: the TOFU-style benchmark and unlearning of saved causal LMs.

Commands
--------
``unlearnkit llm benchmark [--method NAME ...] [--seed N ...] [--split forget10] [--tiny]
[--cache-dir DIR] [--out DIR]``
    Build the benchmark data, train (or load from the cache) the full and retain-only tiny
    models, run the methods and write ``llm-benchmark.json`` and ``llm-benchmark.png`` to
    ``--out``, printing a table.
``unlearnkit llm forget --model PATH --forget FILE --method NAME [--retain FILE] [--corpus FILE]
[--lora] [--epochs N] [--lr X] [--seed N] --out DIR [--json RESULT.json]``
    Unlearn the examples of the JSONL ``--forget`` file from the model saved (with its
    tokenizer) by ``save_pretrained`` at ``--model``, and save the new model to ``--out``. With
    ``--corpus`` (the training corpus), every forget example must be in it, and the retain set
    defaults to the rest of the corpus. The model at ``--model`` is never modified.

Exit codes are those of ``unlearnkit`` (0 ok, 2 usage, 3 invalid input, 4 file not found).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["app"]

app = typer.Typer(
    name="llm",
    help="Unlearning in causal language models and the offline TOFU-style benchmark.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_COLUMNS = (
    "method",
    "seed",
    "forget_quality",
    "model_utility",
    "utility_ratio",
    "privleak",
    "relearn_recovery",
    "int8_forget_quality",
    "compute_ratio",
)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "" if value is None else str(value)


def _errors() -> Any:
    from unlearnkit.cli import _errors as errors

    return errors()


@app.command()
def benchmark(
    method: Annotated[
        list[str] | None,
        typer.Option("--method", "-m", help="Method to run (repeatable; default: all)."),
    ] = None,
    seed: Annotated[
        list[int] | None, typer.Option("--seed", help="Unlearning seed (repeatable).")
    ] = None,
    split: Annotated[str, typer.Option(help="forget01, forget05 or forget10.")] = "forget10",
    tiny: Annotated[
        bool, typer.Option("--tiny", help="Seconds-sized data and model (a smoke run).")
    ] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Model cache (default $UNLEARNKIT_CACHE or ~/.cache/unlearnkit/llm)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for the JSON table and the plot.")] = Path("."),
) -> None:
    """Run unlearning methods on the TOFU-style benchmark and write a table and a plot."""
    with _errors():
        import torch

        from unlearnkit.llm.benchmark import BenchmarkConfig, TofuBenchmark
        from unlearnkit.llm.objectives import llm_methods
        from unlearnkit.llm.plots import plot_tradeoff

        torch.set_num_threads(1)
        bench = TofuBenchmark(BenchmarkConfig.tiny() if tiny else None, cache_dir=cache_dir)
        rows = bench.run(method or llm_methods.names(), seeds=seed or [0], split=split)
        out.mkdir(parents=True, exist_ok=True)
        payload = {"split": split, "config": bench.config.key(), "rows": rows}
        (out / "llm-benchmark.json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
        plot_tradeoff(rows, out / "llm-benchmark.png")
        table = Table(title=f"TOFU-style benchmark, {split}")
        for col in _COLUMNS:
            table.add_column(col, justify="right")
        for row in rows:
            table.add_row(*(_fmt(row.get(c)) for c in _COLUMNS))
        console = Console(highlight=False)
        console.print(table)
        console.print(f"results written to {out / 'llm-benchmark.json'}")


@app.command()
def forget(
    model: Annotated[
        Path, typer.Option(help="Folder written by save_pretrained (with tokenizer).")
    ],
    forget_file: Annotated[
        Path,
        typer.Option("--forget", help="JSONL of examples to forget (question/answer or text)."),
    ],
    method: Annotated[
        str, typer.Option(help="grad_ascent, grad_diff, kl_grad_diff, dpo, npo, simnpo or rmu.")
    ],
    out: Annotated[Path, typer.Option(help="Folder for the unlearned model and tokenizer.")],
    retain_file: Annotated[
        Path | None, typer.Option("--retain", help="JSONL of examples to keep.")
    ] = None,
    corpus_file: Annotated[
        Path | None, typer.Option("--corpus", help="JSONL of the training corpus.")
    ] = None,
    lora: Annotated[bool, typer.Option("--lora", help="Train LoRA adapters, then merge.")] = False,
    epochs: Annotated[int | None, typer.Option(help="Passes over the forget set.")] = None,
    lr: Annotated[float | None, typer.Option(help="Learning rate.")] = None,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Also write the result as JSON here.")
    ] = None,
) -> None:
    """Make a saved causal LM forget the examples of a JSONL file."""
    with _errors():
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from unlearnkit.llm.corpus import TextCorpus, read_examples
        from unlearnkit.llm.objectives import LoRAOptions, llm_methods
        from unlearnkit.llm.unlearn import LMUnlearner

        torch.set_num_threads(1)
        info = llm_methods.get(method)
        if not model.exists():
            raise FileNotFoundError(2, "No such model folder", str(model))
        forget_set = read_examples(forget_file)
        retain = read_examples(retain_file) if retain_file else []
        corpus = TextCorpus(read_examples(corpus_file) if corpus_file else forget_set + retain)
        cfg = info.config_cls()
        changes: dict[str, Any] = {"seed": seed}
        if epochs is not None:
            changes["epochs"] = epochs
        if lr is not None:
            changes["learning_rate"] = lr
        if lora:
            changes["lora"] = LoRAOptions()
        cfg = replace(cfg, **changes)
        lm = AutoModelForCausalLM.from_pretrained(model)
        tok = AutoTokenizer.from_pretrained(model)
        unl = LMUnlearner(method, cfg).fit(lm, tok, corpus)
        texts = {(e.prompt, e.answer): e.id for e in corpus}
        ids = []
        for e in forget_set:
            if (e.prompt, e.answer) not in texts:
                from unlearnkit.llm.errors import ForgetSetNotInCorpusError

                raise ForgetSetNotInCorpusError(
                    f"The forget example {e.answer[:60]!r} is not in the training corpus "
                    f"{corpus_file}. Forget only examples the model was trained on."
                )
            ids.append(texts[(e.prompt, e.answer)])
        result = unl.unlearn(ids)
        out.mkdir(parents=True, exist_ok=True)
        unl.model_.save_pretrained(out)
        tok.save_pretrained(out)
        text = result.to_json(json_path)
        Console(highlight=False).print(
            f"forgot {len(result.removed_ids)} examples with {method} in "
            f"{result.evidence['steps']} steps ({result.evidence['tokens']} tokens); "
            f"model written to {out}"
        )
        if json_path is None:
            typer.echo(text)
