"""The GDPR erasure demonstration on the real Taiwan credit data."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from unlearnkit.demo import MATCH_RTOL, _default_output_dir, _plan_requests, run_demo
from unlearnkit.errors import DatasetNotFoundError, InvalidParameterError

N_REQUESTS = 5
BATCH = 4


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = io.StringIO()
    folder = tmp_path_factory.mktemp("demo") / "report"
    report = run_demo(
        folder,
        n_requests=N_REQUESTS,
        batch_size=BATCH,
        random_state=3,
        console=Console(file=out, width=200),
        download=False,
    )
    return report, out.getvalue()


def test_report_files_are_written(demo):
    report, _ = demo
    assert report.json_path == report.output_dir / "report.json"
    assert report.html_path == report.output_dir / "report.html"
    assert report.json_path.is_file()
    assert report.html_path.is_file()


def test_unlearned_model_equals_the_retrain_and_guarantee_is_exact(demo):
    s = demo[0].summary
    assert s["guarantee"] == "exact"
    assert s["coefficients_match_retrain"] is True
    assert s["max_rel_coef_diff"] <= MATCH_RTOL == 1e-8
    assert s["intercept_abs_diff"] <= 1e-8
    # The comparison is not vacuous: erasing the clients moved the coefficients far more
    # than the gap to the retrain.
    assert s["max_abs_coef_change_from_erasure"] > 1e4 * max(s["max_abs_coef_diff"], 1e-16)
    assert s["test_prediction_agreement_with_retrain"] == 1.0
    assert s["test_accuracy_after"] == s["test_accuracy_retrain"]
    assert s["forgotten_ids_recorded"] is True


def test_summary_counts_come_from_the_run(demo):
    report, _ = demo
    s = report.summary
    assert (s["clients"], s["train_clients"], s["test_clients"]) == (30_000, 24_000, 6_000)
    assert s["features"] == 23
    assert s["requests"] == N_REQUESTS
    assert s["clients_erased"] == N_REQUESTS - 1 + BATCH
    assert s["clients_retained"] == 24_000 - s["clients_erased"]
    assert s["majority_class_test_accuracy"] < s["test_accuracy_before"] < 1.0
    total = sum(r["seconds"] for r in report.requests)
    assert s["unlearn_seconds_total"] == pytest.approx(total)
    assert s["speedup_total"] == pytest.approx(s["retrain_seconds"] * N_REQUESTS / total)
    assert s["speedup_items_request"] == pytest.approx(
        s["retrain_seconds"] / s["unlearn_seconds_median_items"]
    )


def test_requests_are_single_clients_then_a_batch(demo):
    rows = demo[0].requests
    assert [r["kind"] for r in rows] == ["subject", "items", "subject", "items", "batch"]
    assert [r["rows_removed"] for r in rows] == [1, 1, 1, 1, BATCH]
    assert all(r["guarantee"] == "exact" for r in rows)
    assert all(r["seconds"] > 0 for r in rows)
    singles = [r["subject"] for r in rows[:-1]]
    assert len(set(singles)) == 4
    assert rows[-1]["subject"] is None


def test_json_holds_summary_requests_and_evidence(demo):
    report, _ = demo
    data = json.loads(report.json_path.read_text())["data"]
    assert data["summary"] == json.loads(json.dumps(report.summary))
    assert len(data["requests"]) == N_REQUESTS
    assert len(data["results"]) == N_REQUESTS
    assert all(r["reason"] == "privacy" for r in data["results"])
    assert all(r["fingerprint_before"] != r["fingerprint_after"] for r in data["results"])
    assert len(data["coefficients"]) == 23
    assert data["coefficients"][0]["feature"] == "LIMIT_BAL"
    assert len(data["retrain_seconds_each"]) == data["config"]["retrain_repeats"]
    assert data["config"]["data_sha256"].startswith("023eb2c3")


def test_html_has_the_timing_plot_and_tables(demo):
    page = demo[0].html_path.read_text()
    assert page.count("data:image/png;base64,") == 1
    assert "log scale" in page
    assert "GDPR erasure on Taiwan credit-default clients" in page
    assert "<td>exact</td>" in page
    assert "LIMIT_BAL" in page


def test_console_shows_the_table_and_where_the_report_went(demo):
    report, text = demo
    assert "GDPR erasure on Taiwan credit-default clients" in text
    assert "coefficients equal a retrain" in text
    flat = text.replace("\n", "")
    assert str(report.html_path) in flat
    assert str(report.json_path) in flat


def test_request_plan_is_seeded():
    ids = np.arange(1, 1001)

    def subjects(seed):
        plan = _plan_requests(ids, 6, 3, np.random.default_rng(seed))
        return [(kind, r.subject, r.ids) for kind, r in plan]

    assert subjects(0) == subjects(0)
    assert subjects(0) != subjects(1)
    assert [kind for kind, *_ in subjects(0)] == ["subject", "items"] * 2 + ["subject", "batch"]
    only = _plan_requests(ids, 1, 3, np.random.default_rng(0))
    assert [kind for kind, _ in only] == ["subject"]


def test_default_output_dir_is_timestamped_under_reports():
    path = _default_output_dir()
    assert re.fullmatch(r"reports/demo-\d{8}T\d{6}Z", path.as_posix())


def test_missing_dataset_propagates_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("UNLEARNKIT_DATA", str(tmp_path / "nodata"))
    monkeypatch.setenv("UNLEARNKIT_CACHE", str(tmp_path / "nocache"))
    out = tmp_path / "out"
    with pytest.raises(DatasetNotFoundError, match=r"UCI_Credit_Card\.csv"):
        run_demo(out, n_requests=2, console=Console(file=io.StringIO()), download=False)
    assert not out.exists()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_requests": 0}, "n_requests"),
        ({"n_requests": True}, "n_requests"),
        ({"n_requests": 2, "batch_size": 1}, "batch_size"),
    ],
)
def test_bad_parameters_are_rejected_before_any_work(tmp_path, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        run_demo(tmp_path / "x", console=Console(file=io.StringIO()), download=False, **kwargs)
    assert not Path(tmp_path / "x").exists()


def test_too_many_requests_for_the_training_set_is_rejected(tmp_path):
    with pytest.raises(InvalidParameterError, match="ask for fewer"):
        run_demo(
            tmp_path / "x",
            n_requests=2,
            batch_size=24_000,
            console=Console(file=io.StringIO()),
            download=False,
        )


def test_books_carry_every_single_client_erasure_to_a_valid_certificate(demo):
    report, out = demo
    s = report.summary
    singles = [r for r in report.requests if r["kind"] != "batch"]
    assert s["books_requests"] == len(singles) == N_REQUESTS - 1
    assert s["books_requests_done"] == len(singles)
    assert s["books_certificates_valid"] == len(singles)
    assert s["books_model_versions"] == len(singles) + 1
    assert s["books_resubmission_was_no_op"] is True
    assert s["books_audit_intact"] is True
    assert [c["subject"] for c in report.certificates] == [str(r["subject"]) for r in singles]
    assert all(c["guarantee"] == "exact" and c["verification_passed"] for c in report.certificates)
    assert all(c["samples"] == [c["subject"]] for c in report.certificates)
    assert (report.output_dir / "books" / "ledger.db").is_file()
    flat = " ".join(out.split())
    assert "Certificates issued through the books" in flat
    assert f"unlearnkit serve --db {s['books_db']}" in flat
    assert "ukt_" not in report.json_path.read_text()  # the dashboard token is only printed


def test_books_of_a_rerun_into_the_same_folder_start_afresh(tmp_path):
    from unlearnkit.data import Samples
    from unlearnkit.demo import _run_books

    rng = np.random.default_rng(0)
    train = Samples(
        rng.normal(size=(30, 3)), y=rng.normal(size=30), ids=range(30), subjects=range(30)
    )
    for _ in range(2):
        certificates, summary, token = _run_books(
            tmp_path / "books",
            train,
            train.X,
            train.y,
            ["4", "9"],
            1.0,
            0,
            Console(file=io.StringIO()),
        )
        assert [c["status"] for c in certificates] == ["done", "done"]
        assert summary["books_model_versions"] == 3
        assert token.startswith("ukt_")
