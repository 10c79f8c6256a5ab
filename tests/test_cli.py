"""The `unlearnkit` command line: fit + forget round trips, every request option, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from typer.testing import CliRunner

from unlearnkit import __version__, persistence
from unlearnkit.checks import assert_same_model, make_check_data
from unlearnkit.cli import EXIT_INVALID, EXIT_NOT_FOUND, EXIT_UNEXPECTED, EXIT_USAGE, app
from unlearnkit.errors import DatasetNotFoundError
from unlearnkit.registry import methods

FEATURES = ["a", "b", "c"]
ALPHA = 0.5
WIDE = {"COLUMNS": "250"}


def invoke(*args: Any, input: str | None = None) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args], input=input, env=WIDE)


def make_table(n: int = 60, seed: int = 0, string_ids: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    uid = rng.permutation(n) * 3 + 500
    frame = pd.DataFrame(
        {
            "uid": [f"u{i}" for i in uid] if string_ids else uid,
            "person": [f"p{i % 6}" for i in range(n)],
            "a": rng.normal(size=n),
            "b": 2.0 * rng.normal(size=n),
            "c": rng.integers(0, 4, size=n),
            "w": rng.uniform(0.5, 2.0, size=n),
            "note": ["free text"] * n,
        }
    )
    frame["price"] = 1.5 * frame.a - frame.b + 0.3 * frame.c + rng.normal(scale=0.2, size=n)
    return frame


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    return path


def reference(frame: pd.DataFrame, features: list[str] = FEATURES, **params: Any) -> Ridge:
    params.setdefault("alpha", ALPHA)
    return Ridge(**params).fit(frame[features], frame["price"], sample_weight=frame["w"])


def assert_matches(model_path: Path, ref: Ridge) -> None:
    model = persistence.load(model_path)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=1e-8, atol=1e-10)


FIT_ARGS = [
    "--method",
    "ridge",
    "--target",
    "price",
    "--id-column",
    "uid",
    "--subject-column",
    "person",
    "--weight-column",
    "w",
    "--drop",
    "note",
    "--param",
    f"alpha={ALPHA}",
]


@pytest.fixture
def table() -> pd.DataFrame:
    return make_table()


@pytest.fixture
def fitted(tmp_path: Path, table: pd.DataFrame) -> Path:
    data = write_table(table, tmp_path / "train.csv")
    model = tmp_path / "model.ukit"
    result = invoke("fit", data, *FIT_ARGS, "--out", model)
    assert result.exit_code == 0, result.output
    return model


def assert_error(result: Any, code: int, *fragments: str) -> None:
    """One red line on stderr, no traceback, the documented exit code."""
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# -- help, version, methods -------------------------------------------------------------------
def test_help_lists_commands_and_exit_codes():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("methods", "fit", "forget", "demo", "version"):
        assert command in result.stdout
    assert "Exit codes" in result.stdout
    for line in ("0  success", "2  usage error", "3  invalid input", "4  file or dataset"):
        assert line in result.stdout


@pytest.mark.parametrize("command", ["methods", "fit", "forget", "demo", "version"])
def test_every_command_has_help(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert f"unlearnkit {command}" in result.stdout


def test_version_command_and_flag():
    assert invoke("version").stdout.strip() == f"unlearnkit {__version__}"
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"unlearnkit {__version__}"


def test_methods_json_lists_the_registry():
    result = invoke("methods", "--json")
    assert result.exit_code == 0
    rows = [row for row in json.loads(result.stdout) if row["family"] == "estimators"]
    assert [row["name"] for row in rows] == methods.names()
    by_name = {row["name"]: row for row in rows}
    assert "ridge" in by_name
    ridge = by_name["ridge"]
    assert ridge["class"] == "unlearnkit.exact.linear.RidgeUnlearner"
    assert ridge["guarantee"]["label"] == "exact"
    assert ridge["request_kinds"] == ["features", "group", "items", "relabel"]
    assert ridge["task"] == "regression"
    assert ridge["params"] == {"alpha": 1.0, "fit_intercept": True}
    for name, info in methods:
        assert by_name[name]["request_kinds"] == sorted(info.request_kinds)
        assert by_name[name]["guarantee"]["kind"] == info.guarantee.kind


def test_methods_lists_the_approximate_and_llm_registries():
    from unlearnkit.approximate import methods as approximate_methods
    from unlearnkit.llm import llm_methods

    for family, registry in (("approximate", approximate_methods), ("llm", llm_methods)):
        result = invoke("methods", "--json", "--family", family)
        assert result.exit_code == 0
        rows = json.loads(result.stdout)
        assert [row["name"] for row in rows] == registry.names()
        assert {row["guarantee"]["kind"] for row in rows} == {"approximate"}
        assert {row["family"] for row in rows} == {family}
    table = invoke("methods", "--family", "approximate")
    assert "scrub" in table.stdout
    assert "ridge" not in table.stdout
    bad = invoke("methods", "--family", "gpu")
    assert bad.exit_code == 3
    assert "--family 'gpu'" in bad.stderr


def test_methods_table_shows_every_method():
    result = invoke("methods")
    assert result.exit_code == 0
    for name, info in methods:
        assert name in result.stdout
        assert info.cls.__name__ in result.stdout
        assert str(info.guarantee) in result.stdout


# -- fit --------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_fit_then_forget_round_trip(tmp_path, table, suffix):
    data = write_table(table, tmp_path / f"train{suffix}")
    model_path = tmp_path / "model.ukit"
    fit = invoke("fit", data, *FIT_ARGS, "--out", model_path)
    assert fit.exit_code == 0, fit.output
    assert_matches(model_path, reference(table))
    model = persistence.load(model_path)
    for shown in (f"{len(table)}", "ridge", "RidgeUnlearner", "exact", model.fingerprint()):
        assert shown in fit.stdout

    forget_ids = [int(table.uid[3]), int(table.uid[10]), int(table.uid[41])]
    result_json = tmp_path / "out" / "result.json"
    forget = invoke(
        "forget", model_path, "--ids", ",".join(map(str, forget_ids)), "--json", result_json
    )
    assert forget.exit_code == 0, forget.output
    kept = table[~table.uid.isin(forget_ids)]
    assert_matches(model_path, reference(kept))

    payload = json.loads(result_json.read_text())
    model = persistence.load(model_path)
    assert payload["removed_ids"] == forget_ids
    assert payload["kind"] == "items"
    assert payload["reason"] == "privacy"
    assert payload["guarantee_label"] == "exact"
    assert payload["fingerprint_after"] == model.fingerprint()
    assert payload["fingerprint_before"] != payload["fingerprint_after"]
    for shown in (payload["request_id"], "items", "3 samples", payload["fingerprint_after"]):
        assert shown in forget.stdout


def test_fit_writes_the_subject_file(fitted, table):
    payload = json.loads(Path(str(fitted) + ".subjects.json").read_text())
    assert payload["subject_column"] == "person"
    expected = {p: table.uid[table.person == p].tolist() for p in table.person.unique()}
    assert payload["subjects"] == expected


def test_fit_features_and_typed_params(tmp_path, table):
    data = write_table(table, tmp_path / "train.csv")
    model_path = tmp_path / "m.ukit"
    result = invoke(
        "fit",
        data,
        "-m",
        "ridge",
        "-t",
        "price",
        "--features",
        "a, c",
        "--weight-column",
        "w",
        "-p",
        "alpha=2",
        "-p",
        "fit_intercept=false",
        "-o",
        model_path,
    )
    assert result.exit_code == 0, result.output
    model = persistence.load(model_path)
    assert model.alpha == 2
    assert model.fit_intercept is False
    assert list(model.feature_names_in_) == ["a", "c"]
    assert not Path(str(model_path) + ".subjects.json").exists()
    assert_matches(model_path, reference(table, ["a", "c"], alpha=2.0, fit_intercept=False))


def test_refit_without_subjects_removes_a_stale_subject_file(tmp_path, fitted):
    assert Path(str(fitted) + ".subjects.json").exists()
    data = tmp_path / "train.csv"
    result = invoke(
        "fit", data, "-m", "ridge", "-t", "price", "--drop", "note,person", "-o", fitted
    )
    assert result.exit_code == 0, result.output
    assert not Path(str(fitted) + ".subjects.json").exists()


def test_fit_without_id_column_numbers_rows(tmp_path, table):
    data = write_table(table, tmp_path / "train.csv")
    model_path = tmp_path / "m.ukit"
    args = ["-m", "ridge", "-t", "price", "--drop", "note,person,uid", "--weight-column", "w"]
    assert invoke("fit", data, *args, "-p", f"alpha={ALPHA}", "-o", model_path).exit_code == 0
    assert invoke("forget", model_path, "--ids", "0,1").exit_code == 0
    assert_matches(model_path, reference(table.iloc[2:]))


def test_string_ids_are_kept_as_strings(tmp_path):
    table = make_table(string_ids=True)
    data = write_table(table, tmp_path / "train.parquet")
    model_path = tmp_path / "m.ukit"
    assert invoke("fit", data, *FIT_ARGS, "-o", model_path).exit_code == 0
    gone = [table.uid[0], table.uid[5]]
    result = invoke("forget", model_path, "--ids", ",".join(gone))
    assert result.exit_code == 0, result.output
    assert_matches(model_path, reference(table[~table.uid.isin(gone)]))
    before = model_path.read_bytes()
    # "503" is a string id that does not exist (numbers are not coerced for string-id models)
    assert_error(invoke("forget", model_path, "--ids", "503"), EXIT_INVALID, "'503'")
    assert model_path.read_bytes() == before


# -- forget: every request option ------------------------------------------------------------
def test_forget_to_out_leaves_the_original_untouched(tmp_path, fitted, table):
    before = fitted.read_bytes()
    subjects_before = Path(str(fitted) + ".subjects.json").read_text()
    new = tmp_path / "new" / "model.ukit"
    uid = int(table.uid[0])
    result = invoke("forget", fitted, "--ids", uid, "--out", new)
    assert result.exit_code == 0, result.output
    assert fitted.read_bytes() == before
    assert Path(str(fitted) + ".subjects.json").read_text() == subjects_before
    assert_matches(new, reference(table.iloc[1:]))
    subjects = json.loads(Path(str(new) + ".subjects.json").read_text())["subjects"]
    assert uid not in subjects[table.person[0]]


def test_forget_ids_file(tmp_path, fitted, table):
    gone = table.uid[[1, 2, 7]].tolist()
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(f"# erasure batch 7\n{gone[0]}\n\n{gone[1]}, {gone[2]}\n")
    result = invoke("forget", fitted, "--ids-file", ids_file, "--reason", "poison")
    assert result.exit_code == 0, result.output
    assert_matches(fitted, reference(table[~table.uid.isin(gone)]))
    assert "poison" in result.stdout


def test_forget_ids_from_stdin(fitted, table):
    gone = table.uid[[4, 9]].tolist()
    result = invoke("forget", fitted, "--ids-file", "-", input=f"{gone[0]}\n{gone[1]}\n")
    assert result.exit_code == 0, result.output
    assert_matches(fitted, reference(table[~table.uid.isin(gone)]))


def test_forget_subject_uses_the_subject_file(tmp_path, fitted, table):
    out_json = tmp_path / "r.json"
    result = invoke("forget", fitted, "--subject", "p2", "--json", out_json)
    assert result.exit_code == 0, result.output
    assert_matches(fitted, reference(table[table.person != "p2"]))
    payload = json.loads(out_json.read_text())
    assert payload["subject"] == "p2"
    assert sorted(payload["removed_ids"]) == sorted(table.uid[table.person == "p2"].tolist())
    subjects = json.loads(Path(str(fitted) + ".subjects.json").read_text())["subjects"]
    assert "p2" not in subjects
    assert set(subjects) == {"p0", "p1", "p3", "p4", "p5"}

    before = fitted.read_bytes()
    assert_error(invoke("forget", fitted, "--subject", "p2"), EXIT_INVALID, "'p2'")
    assert fitted.read_bytes() == before


def test_forget_subject_without_subject_file_is_not_found(tmp_path, table):
    data = write_table(table, tmp_path / "train.csv")
    model_path = tmp_path / "m.ukit"
    args = ["-m", "ridge", "-t", "price", "--id-column", "uid", "--drop", "note,person"]
    assert invoke("fit", data, *args, "-o", model_path).exit_code == 0
    assert_error(
        invoke("forget", model_path, "--subject", "p1"), EXIT_NOT_FOUND, "--subject-column"
    )


@pytest.mark.parametrize(
    ("where", "gone"),
    [
        (["c=1"], lambda t: t.c == 1),
        (["c=1", "c=3"], lambda t: t.c.isin([1, 3])),
    ],
)
def test_forget_where(fitted, table, where, gone):
    args = [arg for condition in where for arg in ("--where", condition)]
    result = invoke("forget", fitted, *args, "--json", "-")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["kind"] == "group"
    assert sorted(payload["removed_ids"]) == sorted(table.uid[gone(table)].tolist())
    assert_matches(fitted, reference(table[~gone(table)]))
    # the ids of removed subjects' rows leave the subject file
    subjects = json.loads(Path(str(fitted) + ".subjects.json").read_text())["subjects"]
    remaining = {i for ids in subjects.values() for i in ids}
    assert remaining == set(table.uid[~gone(table)].tolist())


@pytest.mark.parametrize("column", ["b", "1"])
def test_forget_features(fitted, table, column):
    result = invoke("forget", fitted, "--features", column)
    assert result.exit_code == 0, result.output
    assert_matches(fitted, reference(table, ["a", "c"]))
    assert list(persistence.load(fitted).feature_names_in_) == ["a", "c"]


def test_forget_relabel(tmp_path, fitted, table):
    out_json = tmp_path / "r.json"
    uid1, uid2 = int(table.uid[5]), int(table.uid[6])
    args = ["--relabel", f"{uid1}=3.25", "--relabel", f"{uid2}=-1", "--json", out_json]
    result = invoke("forget", fitted, *args)
    assert result.exit_code == 0, result.output
    fixed = table.copy()
    fixed.loc[5, "price"], fixed.loc[6, "price"] = 3.25, -1.0
    assert_matches(fitted, reference(fixed))
    payload = json.loads(out_json.read_text())
    assert payload["relabeled_ids"] == [uid1, uid2]
    assert payload["reason"] == "poison"


def test_forget_classes_on_a_regressor_is_refused(fitted):
    before = fitted.read_bytes()
    assert_error(invoke("forget", fitted, "--classes", "1"), EXIT_INVALID, "'classes'")
    assert fitted.read_bytes() == before


# -- every registered method through the command line ----------------------------------------
def _method_table(kind: str) -> pd.DataFrame:
    X, y = make_check_data(kind, random_state=3)
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    frame.insert(0, "sid", np.arange(len(frame)) * 5 + 11)
    if y is not None:
        frame["label"] = y
    return frame


@pytest.mark.parametrize("name", methods.names())
def test_every_registered_method_fits_and_forgets(tmp_path, name):
    info = methods.get(name)
    frame = _method_table(info.cls.check_data_kind)
    data = write_table(frame, tmp_path / "train.csv")
    params = {"random_state": 0} if "random_state" in info.params else {}
    param_args = [arg for k, v in params.items() for arg in ("--param", f"{k}={v}")]
    target = ["--target", "label"] if "label" in frame else []
    model_path = tmp_path / "m.ukit"
    fit = invoke(
        "fit", data, "-m", name, *target, "--id-column", "sid", *param_args, "-o", model_path
    )
    assert fit.exit_code == 0, fit.output
    features = [c for c in frame.columns if c.startswith("f")]

    def retrain(rows: pd.DataFrame) -> Any:
        y = rows["label"].to_numpy() if "label" in rows else None
        return info.create(**params).fit(rows[features], y, sample_ids=rows["sid"].to_numpy())

    gone = frame.sid[[0, 7]].tolist()
    forget = invoke("forget", model_path, "--ids", f"{gone[0]},{gone[1]}", "--json", "-")
    assert forget.exit_code == 0, forget.output
    payload = json.loads(forget.stdout)
    assert payload["removed_ids"] == gone
    assert payload["guarantee"]["kind"] == info.guarantee.kind
    model = persistence.load(model_path)
    assert not set(gone) & set(model.sample_ids_.tolist())
    kept = frame[~frame.sid.isin(gone)].copy()
    if info.guarantee.kind == "exact":
        assert_same_model(model, retrain(kept), frame[features])

    if "relabel" in info.request_kinds and "label" in frame:
        row = kept.index[10]
        old = kept.label[row]
        if info.task == "classification":
            labels = sorted(kept.label.unique())
            new = labels[(labels.index(old) + 1) % len(labels)]
        else:
            new = float(old) + 1.5
        relabel = invoke("forget", model_path, "--relabel", f"{kept.sid[row]}={new}")
        assert relabel.exit_code == 0, relabel.output
        kept.loc[row, "label"] = new
        if info.guarantee.kind == "exact":
            assert_same_model(persistence.load(model_path), retrain(kept), frame[features])

    if "classes" in info.request_kinds and "label" in frame:
        label = sorted(kept.label.unique())[0]
        result = invoke("forget", model_path, "--classes", str(label))
        assert result.exit_code == 0, result.output
        model = persistence.load(model_path)
        kept = kept[kept.label != label]
        assert set(model.sample_ids_.tolist()) == set(kept.sid.tolist())
        assert label not in model.classes_.tolist()
        if info.guarantee.kind == "exact":
            assert_same_model(model, retrain(kept), frame[features])


# -- exit codes -------------------------------------------------------------------------------
def test_bad_parameter_value_exits_3(tmp_path, table):
    data = write_table(table, tmp_path / "train.csv")
    args = ["-m", "ridge", "-t", "price", "--drop", "note,person", "-p", "alpha=-1"]
    result = invoke("fit", data, *args, "-o", tmp_path / "m.ukit")
    assert_error(result, EXIT_INVALID, "alpha", "-1")
    assert not (tmp_path / "m.ukit").exists()


def test_unknown_parameter_and_method_exit_3(tmp_path, table):
    data = write_table(table, tmp_path / "train.csv")
    args = ["-t", "price", "--drop", "note,person", "-o", tmp_path / "m.ukit"]
    assert_error(invoke("fit", data, "-m", "ridge", "-p", "beta=1", *args), EXIT_INVALID, "beta")
    assert_error(invoke("fit", data, "-m", "no-such", *args), EXIT_INVALID, "ridge")


def test_non_numeric_feature_exits_3_and_says_what_to_drop(tmp_path, table):
    data = write_table(table, tmp_path / "train.csv")
    result = invoke("fit", data, "-m", "ridge", "-t", "price", "-o", tmp_path / "m.ukit")
    assert_error(result, EXIT_INVALID, "--drop person,note")


def test_missing_column_and_unknown_format_exit_3(tmp_path, table):
    data = write_table(table, tmp_path / "train.csv")
    result = invoke("fit", data, "-m", "ridge", "-t", "nope", "-o", tmp_path / "m.ukit")
    assert_error(result, EXIT_INVALID, "'nope'")
    other = tmp_path / "train.xlsx"
    other.write_text("a,b\n1,2\n")
    result = invoke("fit", other, "-m", "ridge", "-t", "b", "-o", tmp_path / "m.ukit")
    assert_error(result, EXIT_INVALID, ".parquet")


def test_duplicate_ids_in_data_exit_3(tmp_path, table):
    table.loc[3, "uid"] = table.uid[2]
    data = write_table(table, tmp_path / "train.csv")
    result = invoke("fit", data, *FIT_ARGS, "-o", tmp_path / "m.ukit")
    assert_error(result, EXIT_INVALID, "Duplicate")


@pytest.mark.parametrize(
    "args",
    [
        ["--param", "alpha"],  # not KEY=VALUE
        ["--param", "=3"],
        ["--nope"],
    ],
)
def test_fit_usage_errors_exit_2(tmp_path, table, args):
    data = write_table(table, tmp_path / "train.csv")
    result = invoke("fit", data, "-m", "ridge", "-t", "price", *args, "-o", tmp_path / "m.ukit")
    assert result.exit_code == EXIT_USAGE, result.output


def test_fit_regression_without_target_exits_2(tmp_path, table):
    data = write_table(table, tmp_path / "train.csv")
    result = invoke("fit", data, "-m", "ridge", "-o", tmp_path / "m.ukit")
    assert result.exit_code == EXIT_USAGE
    assert "--target" in result.output


def test_missing_files_exit_4(tmp_path, fitted):
    fit = invoke("fit", tmp_path / "nope.csv", "-m", "ridge", "-t", "y", "-o", tmp_path / "m")
    assert_error(fit, EXIT_NOT_FOUND, "nope.csv")
    assert_error(invoke("forget", tmp_path / "nope.ukit", "--ids", "1"), EXIT_NOT_FOUND)
    before = fitted.read_bytes()
    missing_ids = invoke("forget", fitted, "--ids-file", tmp_path / "ids.txt")
    assert_error(missing_ids, EXIT_NOT_FOUND, "ids.txt")
    assert fitted.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--ids", "1"], "Unknown sample ids [1]"),
        (["--ids", "abc"], "'abc' is not an integer"),
        (["--relabel", "1=2.0"], "Unknown sample ids [1]"),
        (["--where", "c=99"], "matches no sample"),
        (["--where", "price=1"], "'price'"),
        (["--features", "zzz"], "'zzz'"),
        (["--features", "a,b,c"], "every feature"),
    ],
)
def test_invalid_requests_exit_3_and_leave_the_model_file_untouched(fitted, args, fragment):
    before = fitted.read_bytes()
    subjects_before = Path(str(fitted) + ".subjects.json").read_bytes()
    assert_error(invoke("forget", fitted, *args), EXIT_INVALID, fragment)
    assert fitted.read_bytes() == before
    assert Path(str(fitted) + ".subjects.json").read_bytes() == subjects_before


def test_forgetting_twice_exits_3(fitted, table):
    uid = str(table.uid[0])
    assert invoke("forget", fitted, "--ids", uid).exit_code == 0
    before = fitted.read_bytes()
    assert_error(invoke("forget", fitted, "--ids", uid), EXIT_INVALID, "already forgotten")
    assert fitted.read_bytes() == before


@pytest.mark.parametrize(
    "args",
    [
        [],  # no request option
        ["--ids", "1", "--subject", "p1"],  # two request options
        ["--where", "c"],  # not COL=VALUE
        ["--where", "=1"],
        ["--relabel", "5"],
        ["--ids", "1", "--reason", "boredom"],
    ],
)
def test_forget_usage_errors_exit_2(fitted, args):
    before = fitted.read_bytes()
    result = invoke("forget", fitted, *args)
    assert result.exit_code == EXIT_USAGE, result.output
    assert fitted.read_bytes() == before


def test_not_a_model_file_exits_3(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    assert_error(invoke("forget", path, "--ids", "1"), EXIT_INVALID, "not an unlearnkit model")


def test_unexpected_error_exits_1_with_one_line(monkeypatch, fitted):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("unlearnkit.cli._build_request", broken)
    before = fitted.read_bytes()
    result = invoke("forget", fitted, "--ids", "1")
    assert_error(result, EXIT_UNEXPECTED, "RuntimeError", "disk on fire", "--traceback")
    assert fitted.read_bytes() == before
    verbose = invoke("--traceback", "forget", fitted, "--ids", "1")
    assert verbose.exit_code == EXIT_UNEXPECTED
    assert "Traceback" in verbose.stderr
    assert verbose.stderr.strip().splitlines()[-1].startswith("error: ")


# -- demo -------------------------------------------------------------------------------------
@dataclass
class _Report:
    json_path: Path
    html_path: Path
    summary: dict[str, Any] = field(default_factory=dict)


def _fake_demo(monkeypatch: pytest.MonkeyPatch, run_demo: Any) -> None:
    module = types.ModuleType("unlearnkit.demo")
    module.run_demo = run_demo  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "unlearnkit.demo", module)


def test_demo_passes_its_options(monkeypatch, tmp_path):
    calls = []

    def run_demo(output_dir, *, n_requests, random_state, console):
        calls.append((output_dir, n_requests, random_state))
        return _Report(output_dir / "r.json", output_dir / "r.html", {"requests": n_requests})

    _fake_demo(monkeypatch, run_demo)
    result = invoke("demo", "--output-dir", tmp_path, "--requests", "3", "--random-state", "7")
    assert result.exit_code == 0, result.output
    assert calls == [(tmp_path, 3, 7)]


def test_demo_without_its_dataset_exits_4(monkeypatch):
    def run_demo(*args: Any, **kwargs: Any) -> Any:
        raise DatasetNotFoundError("german_credit is not in $UNLEARNKIT_DATA; set it.")

    _fake_demo(monkeypatch, run_demo)
    assert_error(invoke("demo"), EXIT_NOT_FOUND, "german_credit")


def test_demo_rejects_zero_requests():
    assert invoke("demo", "--requests", "0").exit_code == EXIT_USAGE


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    result = invoke("demo", "--output-dir", tmp_path, "--requests", "2")
    assert result.exit_code == 0, result.output
    reports = sorted(p.suffix for p in tmp_path.rglob("*") if p.suffix in (".json", ".html"))
    assert ".json" in reports
    assert ".html" in reports
    json_file = next(p for p in tmp_path.rglob("*.json"))
    assert isinstance(json.loads(json_file.read_text()), dict)
    assert str(json_file.name) in result.stdout
    assert result.stdout.count(str(json_file.name)) == 1  # said once, by the demo itself


# -- the installed script ---------------------------------------------------------------------
def _script() -> Path:
    script = Path(sys.executable).parent / "unlearnkit"
    assert script.exists(), f"{script} is missing; install the package (pip install -e .)"
    return script


def test_installed_script_help_and_exit_codes(tmp_path, table):
    script = _script()

    def run(*args: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *map(str, args)], capture_output=True, text=True, timeout=120
        )

    help_ = run("--help")
    assert help_.returncode == 0
    assert "Exit codes" in help_.stdout
    assert "forget" in help_.stdout

    data = write_table(table, tmp_path / "train.csv")
    model_path = tmp_path / "m.ukit"
    assert run("fit", data, *FIT_ARGS, "-o", model_path).returncode == 0
    before = model_path.read_bytes()

    unknown = run("forget", model_path, "--ids", "1")
    assert unknown.returncode == EXIT_INVALID
    assert unknown.stderr.startswith("error: Unknown sample ids [1]")
    assert "Traceback" not in unknown.stderr
    assert model_path.read_bytes() == before

    assert run("forget", model_path, "--where", "c").returncode == EXIT_USAGE
    assert run("forget", tmp_path / "nope.ukit", "--ids", "1").returncode == EXIT_NOT_FOUND
    fit_args = ["fit", data, "-m", "ridge", "-t", "price", "--drop", "note,person"]
    assert run(*fit_args, "-p", "alpha=1").returncode == EXIT_USAGE  # --out is required
    bad = run(*fit_args, "-p", "alpha=-1", "-o", tmp_path / "x.ukit")
    assert bad.returncode == EXIT_INVALID
    assert "alpha" in bad.stderr

    ok = run("forget", model_path, "--ids", table.uid[0], "--json", "-")
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["removed_ids"] == [int(table.uid[0])]
    assert_matches(model_path, reference(table.iloc[1:]))


# -- SISA -------------------------------------------------------------------------------------
def sisa_table(n: int = 90) -> pd.DataFrame:
    frame = make_table(n)
    frame["label"] = np.where(frame.a + frame.b > 0, "high", "low")
    return frame


def test_fit_and_forget_with_sisa_shards_and_slices(tmp_path):
    from unlearnkit.exact import SISAClassifier

    frame = sisa_table()
    data = write_table(frame, tmp_path / "train.csv")
    model_path = tmp_path / "sisa.ukit"
    args = ["--target", "label", "--id-column", "uid", "--features", "a,b,c"]
    result = invoke(
        "fit", data, "--method", "sisa", "--shards", 3, "--slices", 2, *args,
        "--param", "aggregation=vote", "--out", model_path,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    model = persistence.load(model_path)
    assert isinstance(model, SISAClassifier)
    assert (model.n_shards, model.n_slices, model.aggregation) == (3, 2, "vote")
    gone = frame.uid.iloc[:4].tolist()
    result = invoke("forget", model_path, "--ids", ",".join(map(str, gone)), "--json", "-")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert sorted(payload["removed_ids"]) == sorted(gone)
    assert 0 < payload["retrained_fraction"] <= 1
    keep = frame[~frame.uid.isin(gone)]
    reference = SISAClassifier(n_shards=3, n_slices=2, aggregation="vote").fit(
        keep[["a", "b", "c"]], keep["label"].to_numpy(), sample_ids=keep["uid"].to_numpy()
    )
    assert_same_model(persistence.load(model_path), reference, frame[["a", "b", "c"]])


def test_fit_sisa_on_a_float_target_is_a_regressor(tmp_path):
    from unlearnkit.exact import SISARegressor

    data = write_table(make_table(), tmp_path / "train.csv")
    out = tmp_path / "reg.ukit"
    result = invoke(
        "fit", data, "--method", "sisa", "--target", "price", "--drop", "note,uid,person",
        "--shards", 2, "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert isinstance(persistence.load(out), SISARegressor)


def test_shard_options_are_refused_by_methods_without_shards(tmp_path):
    data = write_table(make_table(), tmp_path / "train.csv")
    out = tmp_path / "m.ukit"
    result = invoke("fit", data, *FIT_ARGS, "--shards", 3, "--out", out)
    assert_error(result, EXIT_INVALID, "n_shards")
    assert not out.exists()
    result = invoke(
        "fit", data, "--method", "sisa", "--target", "price", "--drop", "note,uid,person",
        "--shards", 3, "--param", "n_shards=4", "--out", out,
    )  # fmt: skip
    assert result.exit_code == EXIT_USAGE
    result = invoke(
        "fit", data, "--method", "sisa", "--target", "nope", "--drop", "note,uid,person",
        "--out", out,
    )  # fmt: skip
    assert_error(result, EXIT_INVALID, "'nope'")
    result = invoke(
        "fit", data, "--method", "sisa", "--target", "price", "--drop", "note,uid,person",
        "--shards", 500, "--out", out,
    )  # fmt: skip
    assert_error(result, EXIT_INVALID, "n_shards=500")
