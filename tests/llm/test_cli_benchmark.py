"""The ``unlearnkit llm`` commands and the cached benchmark models."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from unlearnkit._cli_llm import app as llm_app
from unlearnkit.llm import BenchmarkConfig, TextCorpus, TofuBenchmark, model_checksum

runner = CliRunner()


def cli() -> typer.Typer:
    root = typer.Typer()

    @root.callback()
    def main() -> None:
        """Root."""

    root.add_typer(llm_app, name="llm")
    return root


def test_benchmark_command_writes_table_and_plot_and_models_are_cached(tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    args = ["llm", "benchmark", "--tiny", "-m", "simnpo", "--seed", "3"]
    res = runner.invoke(cli(), [*args, "--cache-dir", str(cache), "--out", str(out)])
    assert res.exit_code == 0, res.output
    payload = json.loads((out / "llm-benchmark.json").read_text())
    methods = [r["method"] for r in payload["rows"]]
    assert methods == ["original", "retain", "simnpo"]
    run = payload["rows"][2]
    assert run["seed"] == 3
    assert run["batch_size"] == 16
    assert run["device_count"] >= 1
    for key in ("forget_quality", "model_utility", "privleak", "relearn_recovery"):
        assert key in run
    assert 0 < run["compute_ratio"] < 1
    assert (out / "llm-benchmark.png").stat().st_size > 0
    # the models were written to the cache and load back identical, without retraining
    a = TofuBenchmark(BenchmarkConfig.tiny(), cache_dir=cache)
    b = TofuBenchmark(BenchmarkConfig.tiny(), cache_dir=cache)
    (ma, ra), (mb, rb) = a.model(None), b.model(None)
    assert model_checksum(ma) == model_checksum(mb)
    assert ra == rb
    assert sorted(p.name for p in a.folder.iterdir()) == ["full", "retain-forget10", "tokenizer"]
    res = runner.invoke(cli(), ["llm", "benchmark", "--tiny", "--split", "forget50"])
    assert res.exit_code == 3


def test_forget_command_unlearns_a_saved_model_and_keeps_it(tiny, tmp_path):
    model, tok, data = tiny["model"], tiny["tok"], tiny["data"]
    saved = tmp_path / "model"
    model.save_pretrained(saved)
    tok.save_pretrained(saved)
    before = (saved / "model.safetensors").read_bytes()
    corpus = TextCorpus(list(data.corpus())).to_jsonl(tmp_path / "corpus.jsonl")
    forget = TextCorpus(data.forget("forget10")[:10]).to_jsonl(tmp_path / "forget.jsonl")
    out = tmp_path / "new"
    args = ["llm", "forget", "--model", str(saved), "--forget", str(forget)]
    args += ["--method", "npo", "--corpus", str(corpus), "--epochs", "1", "--out", str(out)]
    res = runner.invoke(cli(), [*args, "--json", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["guarantee_label"] == "approximate"
    assert len(result["removed_ids"]) == 10
    assert result["evidence"]["steps"] == 1
    assert (out / "model.safetensors").exists()
    assert (saved / "model.safetensors").read_bytes() == before

    stranger = tmp_path / "stranger.jsonl"
    stranger.write_text(json.dumps({"question": "Who?", "answer": "Nobody at all."}) + "\n")
    bad = ["llm", "forget", "--model", str(saved), "--forget", str(stranger), "--method", "npo"]
    res = runner.invoke(cli(), [*bad, "--corpus", str(corpus), "--out", str(tmp_path / "x")])
    assert res.exit_code == 3
    assert "not in the training corpus" in res.output
    missing = ["llm", "forget", "--model", str(tmp_path / "none"), "--forget", str(forget)]
    res = runner.invoke(cli(), [*missing, "--method", "npo", "--out", str(tmp_path / "y")])
    assert res.exit_code == 4
    res = runner.invoke(cli(), [*args[:6], "--method", "nope", "--out", str(tmp_path / "z")])
    assert res.exit_code == 3
