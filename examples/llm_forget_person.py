"""Make a small language model forget a person, and measure how well it forgot.

A tokenizer and a tiny GPT-2 are trained from scratch on fictitious people (the offline
TOFU-style benchmark, at a seconds-sized scale), together with the reference model trained
without the person. NPO then unlearns every question about that person from a copy of the
model; the original weights are untouched. The script prints the person's answer probability,
forget quality (KS p-value of truth ratios against the reference) and model utility before and
after, and the cost of unlearning against retraining.

Run: ``python examples/llm_forget_person.py`` (needs the 'llm' extra). For the real benchmark
run ``unlearnkit llm benchmark`` or ``python -m benchmarks llm``.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace

import torch

from unlearnkit.llm import (
    BenchmarkConfig,
    LMUnlearner,
    NPOConfig,
    TofuBenchmark,
    model_checksum,
)
from unlearnkit.llm.evaluate import compare
from unlearnkit.requests import ForgetRequest


def main() -> None:
    torch.set_num_threads(1)  # the model is tiny: one CPU thread is fastest
    with tempfile.TemporaryDirectory() as cache:
        tiny = BenchmarkConfig.tiny()
        config = replace(tiny, train=replace(tiny.train, epochs=15))
        bench = TofuBenchmark(config, cache_dir=cache)
        model, _ = bench.model(None)
        reference, retain_report = bench.model("forget10")
        person = bench.data.forget_people("forget10")[0]
        checksum = model_checksum(model)

        unlearner = LMUnlearner("npo", NPOConfig(epochs=4, batch_size=10, learning_rate=5e-3))
        unlearner.fit(model, bench.tokenizer, bench.data.corpus())
        result = unlearner.unlearn(ForgetRequest.group({"subject": person}, subject=person))

        ref = bench.score(reference, "forget10")
        before = compare(bench.score(model, "forget10"), ref)
        after = compare(bench.score(unlearner.model_, "forget10"), ref)
        cost = result.evidence["compute_units"] / (3 * retain_report.tokens)
        print(f"forgot {len(result.removed_ids)} questions about {person} ({result.guarantee})")
        for name, r in (("before", before), ("after", after)):
            print(
                f"  {name:6s} answer probability {r['forget_probability']:.3f}, forget quality "
                f"{r['forget_quality']:.3g}, model utility {r['model_utility']:.3f}"
            )
        print(
            f"  cost: {result.evidence['steps']} steps, {result.evidence['tokens']} tokens, "
            f"{cost:.1%} of retraining; original weights unchanged: "
            f"{model_checksum(model) == checksum}"
        )


if __name__ == "__main__":
    main()
