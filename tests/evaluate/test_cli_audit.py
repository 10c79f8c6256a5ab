"""`unlearnkit audit` on saved models and tables."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier
from typer.testing import CliRunner

from unlearnkit._cli_audit import EXIT_INCONCLUSIVE, EXIT_NOT_FORGOTTEN, app
from unlearnkit.exact import KNeighborsClassifierUnlearner

runner = CliRunner()


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4))
    y = (X[:, 0] + rng.normal(size=500) > 0).astype(int)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"]).assign(label=y)
    frame["pid"] = np.arange(1000, 1500)
    frame.iloc[:350].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[350:].drop(columns="pid").to_csv(tmp_path / "test.csv", index=False)
    forget = list(range(1000, 1080))
    (tmp_path / "forget.txt").write_text("\n".join(map(str, forget)) + "\n")
    train = frame.iloc[:350]
    model = KNeighborsClassifierUnlearner(n_neighbors=1).fit(
        train[["a", "b", "c", "d"]], train["label"], sample_ids=train["pid"]
    )
    model.unlearn(forget)
    model.save(tmp_path / "exact.ukm")
    tree = DecisionTreeClassifier(random_state=0).fit(train[["a", "b", "c", "d"]], train["label"])
    joblib.dump(tree, tmp_path / "noop.joblib")
    return tmp_path


def _args(files, model, *extra):
    return [
        str(files / model),
        "--data",
        str(files / "train.csv"),
        "--test",
        str(files / "test.csv"),
        "--target",
        "label",
        "--id-column",
        "pid",
        "--ids-file",
        str(files / "forget.txt"),
        "--attacks",
        "loss,mia_efficacy",
        "--check",
        *extra,
    ]


def test_exact_model_passes_and_writes_the_report(files):
    result = runner.invoke(app, _args(files, "exact.ukm", "--out", str(files / "rep")))
    assert result.exit_code == 0, result.output
    assert "forgotten" in result.output
    assert json.loads((files / "rep.json").read_text())["verdict"] == "forgotten"
    assert (files / "rep.html").read_text().startswith("<!DOCTYPE html>")


def test_no_op_model_fails_with_its_exit_code(files):
    result = runner.invoke(app, [*_args(files, "noop.joblib"), "--json"])
    assert result.exit_code == EXIT_NOT_FORGOTTEN, result.output
    assert json.loads(result.output)["verdict"] == "not_forgotten"


def test_too_few_ids_is_inconclusive(files):
    args = _args(files, "exact.ukm")
    i = args.index("--ids-file")
    args[i : i + 2] = ["--ids", "1000,1001,1002"]
    result = runner.invoke(app, args)
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output


def test_bad_input_exit_codes(files):
    assert runner.invoke(app, _args(files, "missing.ukm")).exit_code == 4
    args = _args(files, "exact.ukm")
    i = args.index("--ids-file")
    args[i : i + 2] = ["--ids", "5"]
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    assert "Unknown sample ids" in result.output
    assert runner.invoke(app, [*_args(files, "exact.ukm"), "--attacks", "magic"]).exit_code == 2
    (files / "junk.bin").write_bytes(b"not a model")
    assert runner.invoke(app, _args(files, "junk.bin")).exit_code == 3
