"""End-to-end demonstration: GDPR erasure requests against a credit-default model.

The scenario, on the 30,000 real clients of the Taiwan credit-default data
(:func:`unlearnkit.datasets.load_taiwan_credit`):

1. split the clients into train and test by a seeded shuffle (80 / 20);
2. standardise the 23 features with a scaler fitted on the training clients. The scaler is a
   fixed preprocessing step: it is not refitted when clients leave, and the retrain below uses
   the same scaled features, so model and retrain are compared on equal terms;
3. fit :class:`~unlearnkit.exact.RidgeUnlearner` on the training clients with their client IDs
   as sample ids: a linear scoring model of default risk whose score is read as a probability
   (score >= 0.5 predicts a default);
4. receive erasure requests (reason ``privacy``). Each client has one row, so most requests name
   one client: alternately ``ForgetRequest.of_subject(client)`` (resolved through the training
   :class:`~unlearnkit.data.Samples`) and ``ForgetRequest.items([client])`` (the client's sample
   id already looked up). The last request is a batch of several clients at once;
5. carry out each request with ``model.unlearn``, timing it;
6. retrain :class:`sklearn.linear_model.Ridge` from scratch on the retained clients, timing it,
   and compare coefficients, test accuracy and time;
7. keep the books (:mod:`unlearnkit.ledger`, an embedded SQLite file in the report folder):
   register the training clients as a dataset version and a freshly fitted model as version 1,
   submit an ``erase_subject`` request per single client (plus one resubmission, a no-op by
   its idempotency key), let the worker unlearn, verify against a retrain and sign a
   certificate for each, check every certificate's signature and the audit log's hash chain,
   and print the command that opens the dashboard on these books.

Everything in the report is measured in the run; nothing is fixed in advance.

Examples
--------
>>> import io, tempfile
>>> from rich.console import Console
>>> from unlearnkit.demo import run_demo
>>> report = run_demo(tempfile.mkdtemp(), n_requests=4, console=Console(file=io.StringIO()))
>>> report.summary["guarantee"], report.summary["coefficients_match_retrain"]
('exact', True)
>>> report.html_path.name, report.json_path.name
('report.html', 'report.json')
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import shutil
import time
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy
import sklearn
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from unlearnkit import __version__
from unlearnkit.base import UnlearningResult
from unlearnkit.data import Samples
from unlearnkit.datasets import FILES, load_taiwan_credit
from unlearnkit.errors import InvalidParameterError, UnlearnError
from unlearnkit.exact import RidgeUnlearner
from unlearnkit.reporting import HtmlReport, new_figure
from unlearnkit.requests import ForgetRequest, Reason

__all__ = ["DemoReport", "run_demo"]

#: Coefficients must agree with the retrain to this relative tolerance to count as a match.
MATCH_RTOL = 1e-8
#: Share of clients held out for testing.
TEST_FRACTION = 0.2
#: Number of timed from-scratch retrains; the median is reported.
RETRAIN_REPEATS = 3


@dataclass(frozen=True)
class DemoReport:
    """Where :func:`run_demo` wrote its report, and the headline figures.

    Attributes
    ----------
    output_dir : Path
        The folder holding the report.
    json_path, html_path : Path
        ``report.json`` (for machines) and ``report.html`` (self-contained, for people).
    summary : dict
        Flat headline figures: sizes, accuracy, coefficient differences, times, speed-ups.
    requests : list of dict
        One entry per request: kind, subject, rows removed, seconds.
    certificates : list of dict
        One entry per request carried out through the books: request, subject, model versions,
        guarantee, verification and whether the signature holds.
    """

    output_dir: Path
    json_path: Path
    html_path: Path
    summary: dict[str, Any]
    requests: list[dict[str, Any]] = field(default_factory=list)
    certificates: list[dict[str, Any]] = field(default_factory=list)


def _default_output_dir() -> Path:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("reports") / f"demo-{stamp}"


def _accuracy(scores: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((scores >= 0.5).astype(np.int64) == y))


def _plan_requests(
    train_ids: np.ndarray, n_requests: int, batch_size: int, rng: np.random.Generator
) -> list[tuple[str, ForgetRequest]]:
    """``n_requests`` erasure requests: single clients alternating subject / items, then a batch."""
    n_single = n_requests - 1 if n_requests >= 2 else n_requests
    n_batch = batch_size if n_requests >= 2 else 0
    chosen = [int(c) for c in rng.choice(train_ids, size=n_single + n_batch, replace=False)]
    plan: list[tuple[str, ForgetRequest]] = []
    for k, client in enumerate(chosen[:n_single]):
        if k % 2 == 0:
            plan.append(("subject", ForgetRequest.of_subject(client, reason=Reason.PRIVACY)))
        else:
            plan.append(
                (
                    "items",
                    ForgetRequest.items([client], reason=Reason.PRIVACY, subject=str(client)),
                )
            )
    if n_batch:
        plan.append(("batch", ForgetRequest.items(chosen[n_single:], reason=Reason.PRIVACY)))
    return plan


def _timing_figure(rows: list[dict[str, Any]], retrain_seconds: float) -> Figure:
    fig = new_figure(7.5, 4.2)
    ax = fig.subplots()
    batch_rows = [r["rows_removed"] for r in rows if r["kind"] == "batch"]
    styles = {
        "subject": ("o", "unlearn: of_subject request (rows found via Samples)"),
        "items": ("s", "unlearn: items request (ids from the books)"),
        "batch": ("D", f"unlearn: batch of {batch_rows[0] if batch_rows else 0} clients"),
    }
    for kind, (marker, label) in styles.items():
        pts = [(r["request"], r["seconds"]) for r in rows if r["kind"] == kind]
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.scatter(xs, ys, marker=marker, label=label, zorder=3)
    ax.axhline(
        retrain_seconds,
        color="tab:red",
        linestyle="--",
        label=f"retrain from scratch, scikit-learn Ridge (median of {RETRAIN_REPEATS})",
    )
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("request")
    ax.set_ylabel("seconds (log scale)")
    ax.set_title("Time to honour each erasure request")
    ax.grid(True, which="both", alpha=0.3)
    fig.legend(loc="outside lower center", ncols=2, fontsize="small", frameon=False)
    return fig


def run_demo(
    output_dir: str | os.PathLike[str] | None = None,
    *,
    n_requests: int = 20,
    random_state: int = 0,
    console: Console | None = None,
    batch_size: int = 25,
    alpha: float = 1.0,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    books: bool = True,
) -> DemoReport:
    """Run the GDPR erasure demonstration and write ``report.json`` and ``report.html``.

    Parameters
    ----------
    output_dir : path, optional
        Where the report goes; default ``./reports/demo-<UTC timestamp>/``.
    n_requests : int, default=20
        Number of erasure requests. With two or more, the last one is a batch.
    random_state : int, default=0
        Seed of the train/test split and of which clients ask for erasure.
    console : rich.console.Console, optional
        Where progress and the result table are printed (default: standard output).
    batch_size : int, default=25
        Clients in the final batch request.
    alpha : float, default=1.0
        Ridge penalty of the model and of the retrain.
    data_dir : path, optional
        Data root holding ``taiwan_credit_default/`` (default: see :mod:`unlearnkit.datasets`).
    download : bool, default=True
        Whether the data file may be downloaded when it is not on this machine.
    books : bool, default=True
        Also carry the single-client requests out through the books and the worker (step 7),
        writing ``books/ledger.db`` in the report folder.

    Returns
    -------
    DemoReport

    Raises
    ------
    DatasetNotFoundError
        The Taiwan credit data is not on this machine and could not be downloaded.
    """
    if isinstance(n_requests, bool) or not isinstance(n_requests, (int, np.integer)):
        raise InvalidParameterError(f"n_requests must be an integer >= 1, got {n_requests!r}.")
    if n_requests < 1:
        raise InvalidParameterError(f"n_requests must be >= 1, got {n_requests}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise InvalidParameterError(f"batch_size must be an integer >= 2, got {batch_size!r}.")
    if batch_size < 2:
        raise InvalidParameterError(f"batch_size must be >= 2, got {batch_size}.")
    console = console if console is not None else Console()

    data = load_taiwan_credit(data_dir=data_dir, download=download)
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(data))
    n_test = round(TEST_FRACTION * len(data))
    train = data.select(data.ids[np.sort(order[n_test:])])
    test = data.select(data.ids[np.sort(order[:n_test])])
    n_erase = (n_requests - 1 + batch_size) if n_requests >= 2 else n_requests
    if n_erase >= len(train):
        raise InvalidParameterError(
            f"{n_requests} requests with batch_size={batch_size} would erase {n_erase} of the "
            f"{len(train)} training clients; ask for fewer."
        )

    scaler = StandardScaler().fit(train.X.to_numpy())
    X_train = scaler.transform(train.X.to_numpy())
    X_test = scaler.transform(test.X.to_numpy())
    y_train = train.y.astype(np.float64)
    y_test = test.y

    model = RidgeUnlearner(alpha=alpha).fit(X_train, y_train, sample_ids=train.ids)
    coef_before = model.coef_.copy()
    acc_before = _accuracy(model.predict(X_test), y_test)

    plan = _plan_requests(train.ids, n_requests, batch_size, rng)
    results: list[UnlearningResult] = []
    rows: list[dict[str, Any]] = []
    erased: list[Hashable] = []
    progress = Progress(
        TextColumn("[bold]erasure requests"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task("requests", total=len(plan))
        for number, (kind, request) in enumerate(plan, start=1):
            subject_data: Samples | None = train if kind == "subject" else None
            start = time.perf_counter()
            result = model.unlearn(request, data=subject_data)
            seconds = time.perf_counter() - start
            results.append(result)
            erased.extend(result.removed_ids)
            rows.append(
                {
                    "request": number,
                    "request_id": result.request_id,
                    "kind": kind,
                    "subject": result.subject,
                    "rows_removed": len(result.removed_ids),
                    "seconds": seconds,
                    "guarantee": str(result.guarantee),
                    "retrained_fraction": result.retrained_fraction,
                }
            )
            progress.advance(task)

    coef_after = model.coef_.copy()
    acc_after = _accuracy(model.predict(X_test), y_test)

    keep = ~np.isin(train.ids, np.asarray(erased, dtype=np.int64))
    retrain_times = []
    reference = Ridge(alpha=alpha)
    for _ in range(RETRAIN_REPEATS):
        reference = Ridge(alpha=alpha)
        start = time.perf_counter()
        reference.fit(X_train[keep], y_train[keep])
        retrain_times.append(time.perf_counter() - start)
    retrain_seconds = float(np.median(retrain_times))
    acc_retrain = _accuracy(reference.predict(X_test), y_test)
    agreement = float(np.mean((model.predict(X_test) >= 0.5) == (reference.predict(X_test) >= 0.5)))

    abs_diff = float(np.max(np.abs(coef_after - reference.coef_)))
    scale = float(np.max(np.abs(reference.coef_)))
    rel_diff = abs_diff / scale if scale > 0 else abs_diff
    intercept_diff = abs(float(model.intercept_) - float(reference.intercept_))
    coef_change = float(np.max(np.abs(coef_after - coef_before)))
    guarantees = sorted({str(r.guarantee) for r in results})
    total_seconds = float(sum(r["seconds"] for r in rows))
    median = {
        kind: _median([r["seconds"] for r in rows if r["kind"] == kind])
        for kind in ("subject", "items", "batch")
    }
    for row in rows:
        row["speedup_vs_retrain"] = retrain_seconds / row["seconds"]

    summary: dict[str, Any] = {
        "dataset": "taiwan_credit",
        "clients": len(data),
        "train_clients": len(train),
        "test_clients": len(test),
        "features": int(X_train.shape[1]),
        "requests": len(plan),
        "clients_erased": len(erased),
        "clients_retained": int(model.n_samples_),
        "guarantee": guarantees[0] if len(guarantees) == 1 else ",".join(guarantees),
        "coefficients_match_retrain": bool(
            rel_diff <= MATCH_RTOL and intercept_diff <= MATCH_RTOL * max(1.0, scale)
        ),
        "max_abs_coef_diff": abs_diff,
        "max_rel_coef_diff": rel_diff,
        "intercept_abs_diff": intercept_diff,
        "max_abs_coef_change_from_erasure": coef_change,
        "test_accuracy_before": acc_before,
        "test_accuracy_after": acc_after,
        "test_accuracy_retrain": acc_retrain,
        "test_prediction_agreement_with_retrain": agreement,
        "majority_class_test_accuracy": float(max(y_test.mean(), 1 - y_test.mean())),
        "unlearn_seconds_total": total_seconds,
        "unlearn_seconds_median_subject": median["subject"],
        "unlearn_seconds_median_items": median["items"],
        "unlearn_seconds_batch": median["batch"],
        "retrain_seconds": retrain_seconds,
        "retrain_seconds_one_per_request": retrain_seconds * len(plan),
        "speedup_total": retrain_seconds * len(plan) / total_seconds,
        "speedup_subject_request": _ratio(retrain_seconds, median["subject"]),
        "speedup_items_request": _ratio(retrain_seconds, median["items"]),
        "speedup_batch_request": _ratio(retrain_seconds, median["batch"]),
        "forgotten_ids_recorded": bool(
            set(erased) <= set(model.forgotten_ids_)
            and model.n_samples_ == len(train) - len(erased)
        ),
    }

    spec = FILES[("taiwan_credit_default", "UCI_Credit_Card.csv")]
    feature_names = list(train.X.columns)
    coefficients = [
        {
            "feature": name,
            "before": float(coef_before[j]),
            "after_unlearning": float(coef_after[j]),
            "retrained": float(reference.coef_[j]),
            "abs_diff_to_retrain": float(abs(coef_after[j] - reference.coef_[j])),
        }
        for j, name in enumerate(feature_names)
    ]
    environment = {
        "unlearnkit": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
        "pandas": pd.__version__,
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    config = {
        "n_requests": n_requests,
        "batch_size": batch_size if n_requests >= 2 else 0,
        "random_state": random_state,
        "alpha": alpha,
        "test_fraction": TEST_FRACTION,
        "retrain_repeats": RETRAIN_REPEATS,
        "match_rtol": MATCH_RTOL,
        "data_file": spec.name,
        "data_sha256": spec.sha256,
    }

    folder = Path(output_dir) if output_dir is not None else _default_output_dir()
    certificates: list[dict[str, Any]] = []
    if books:
        subjects = [str(r["subject"]) for r in rows if r["kind"] != "batch"]
        certificates, books_summary, token = _run_books(
            folder / "books", train, X_train, y_train, subjects, alpha, random_state, console
        )
        summary.update(books_summary)

    report = _build_report(summary, rows, coefficients, environment, config, results, retrain_times)
    json_path, html_path = report.write(folder)

    console.print(_result_table(summary))
    if books:
        console.print(_certificates_table(certificates))
        console.print(
            f"Books: [bold]{escape(summary['books_db'])}[/bold] "
            f"({summary['books_certificates_valid']}/{len(certificates)} certificates verify, "
            f"audit log {'intact' if summary['books_audit_intact'] else 'BROKEN'}: "
            f"{summary['books_audit_entries']} entries)"
        )
        console.print(
            "Open the dashboard: [bold]"
            + escape(f"unlearnkit serve --db {summary['books_db']}")
            + "[/bold], then http://127.0.0.1:8000/dashboard/ with the token "
            + escape(token)
        )
    console.print(f"Report written to [bold]{escape(str(html_path))}[/bold]")
    console.print(f"Machine-readable results: [bold]{escape(str(json_path))}[/bold]")
    return DemoReport(
        output_dir=folder,
        json_path=json_path,
        html_path=html_path,
        summary=summary,
        requests=rows,
        certificates=certificates,
    )


def _run_books(
    folder: Path,
    train: Samples,
    X_train: np.ndarray,
    y_train: np.ndarray,
    subjects: list[str],
    alpha: float,
    random_state: int,
    console: Console,
) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    """Step 7: the same erasures through the books, the worker and signed certificates."""
    from unlearnkit.ledger import Executor, Ledger, RequestSpec, verify_document

    if folder.exists():  # the books of an earlier run into the same folder
        shutil.rmtree(folder)
    url = f"sqlite:///{folder.resolve() / 'ledger.db'}"
    ledger = Ledger.open(url)
    try:
        version = f"train-seed{random_state}"
        ledger.register_dataset(
            "taiwan-credit",
            version,
            sample_ids=train.ids,
            subjects=[str(s) for s in train.subjects],
            subject_column="ID",
            description="Taiwan credit-default training clients; one row per client",
        )
        model = RidgeUnlearner(alpha=alpha).fit(X_train, y_train, sample_ids=train.ids)
        ledger.register_model("credit-default-ridge", model, dataset="taiwan-credit")
        ids = []
        for subject in subjects:
            spec = RequestSpec(kind="erase_subject", subject=subject)
            request, _ = ledger.submit(spec, owner="demo", idempotency_key=f"erase-{subject}")
            ids.append(request["id"])
        again, created = ledger.submit(
            RequestSpec(kind="erase_subject", subject=subjects[0]),
            owner="demo",
            idempotency_key=f"erase-{subjects[0]}",
        )
        executor = Executor(ledger)
        start = time.perf_counter()
        with console.status(f"worker: {len(ids)} erasure requests through the books"):
            executor.run_until_idle()
        worker_seconds = time.perf_counter() - start
        public_key = ledger.signer.public_key_pem
        certificates = []
        for rid in ids:
            request = ledger.get_request(rid)
            entry: dict[str, Any] = {
                "request_id": rid,
                "subject": request["subject"],
                "status": request["status"],
            }
            if request["status"] == "done":
                document = ledger.certificate(request_id=rid)
                body = document["certificate"]
                try:
                    verify_document(document, public_key)
                    valid = True
                except UnlearnError:
                    valid = False
                model_entry = body["models"][0] if body["models"] else None
                entry |= {
                    "certificate_id": body["certificate_id"],
                    "samples": body["samples"],
                    "guarantee": body["guarantee_label"],
                    "versions": (
                        f"v{model_entry['version_before']['version']} -> "
                        f"v{model_entry['version_after']['version']}"
                        if model_entry
                        else "-"
                    ),
                    "verification_passed": body["verification"]["passed"],
                    "signature_valid": valid,
                }
            certificates.append(entry)
        chain = ledger.verify_audit()
        token, _ = ledger.create_token("operator", name="demo-dashboard", actor="demo")
        summary = {
            "books_db": url,
            "books_requests": len(ids),
            "books_requests_done": sum(c["status"] == "done" for c in certificates),
            "books_resubmission_was_no_op": (not created) and again["id"] == ids[0],
            "books_certificates_valid": sum(bool(c.get("signature_valid")) for c in certificates),
            "books_model_versions": ledger.list_model_versions().total,
            "books_audit_intact": chain.ok,
            "books_audit_entries": chain.entries,
            "books_worker_seconds": worker_seconds,
        }
    finally:
        ledger.close()
    return certificates, summary, token


def _certificates_table(certificates: list[dict[str, Any]]) -> Table:
    table = Table(title="Certificates issued through the books", title_justify="left")
    for column in ("subject", "status", "model versions", "guarantee", "verified", "signature"):
        table.add_column(column)
    for c in certificates:
        table.add_row(
            escape(str(c["subject"])),
            c["status"],
            c.get("versions", "-"),
            escape(str(c.get("guarantee", "-"))),
            "yes" if c.get("verification_passed") else "no",
            "valid" if c.get("signature_valid") else "INVALID",
        )
    return table


def _median(values: list[float]) -> float | None:
    return float(np.median(values)) if values else None


def _ratio(numerator: float, denominator: float | None) -> float | None:
    return None if denominator is None else numerator / denominator


def _fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def _fmt_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if value < 1:
        return f"{value * 1e3:.2f} ms"
    return f"{value:.2f} s"


def _result_table(s: dict[str, Any]) -> Table:
    table = Table(title="GDPR erasure on Taiwan credit-default clients", title_justify="left")
    table.add_column("", style="bold")
    table.add_column("value", justify="right")
    table.add_row("clients (train / test)", f"{s['train_clients']:,} / {s['test_clients']:,}")
    table.add_row("requests / clients erased", f"{s['requests']} / {s['clients_erased']}")
    table.add_row("guarantee", s["guarantee"])
    match = "yes" if s["coefficients_match_retrain"] else "NO"
    table.add_row(
        "coefficients equal a retrain", f"{match} (max rel. diff {s['max_rel_coef_diff']:.1e})"
    )
    table.add_row("coefficient change from erasure", f"{s['max_abs_coef_change_from_erasure']:.1e}")
    table.add_row(
        "test accuracy before / after / retrain",
        f"{s['test_accuracy_before']:.4f} / {s['test_accuracy_after']:.4f} / "
        f"{s['test_accuracy_retrain']:.4f}",
    )
    table.add_row("retrain from scratch (scikit-learn)", _fmt_seconds(s["retrain_seconds"]))
    for label, seconds, speedup in (
        ("of_subject request", "unlearn_seconds_median_subject", "speedup_subject_request"),
        ("items request", "unlearn_seconds_median_items", "speedup_items_request"),
        ("batch request", "unlearn_seconds_batch", "speedup_batch_request"),
    ):
        if s[seconds] is not None:
            table.add_row(
                f"unlearn, {label} (median)",
                f"{_fmt_seconds(s[seconds])} (speed-up {_fmt_ratio(s[speedup])})",
            )
    table.add_row(
        "all requests: unlearn vs a retrain each",
        f"{_fmt_seconds(s['unlearn_seconds_total'])} vs "
        f"{_fmt_seconds(s['retrain_seconds_one_per_request'])} "
        f"(speed-up {_fmt_ratio(s['speedup_total'])})",
    )
    return table


def _build_report(
    summary: dict[str, Any],
    rows: list[dict[str, Any]],
    coefficients: list[dict[str, Any]],
    environment: dict[str, Any],
    config: dict[str, Any],
    results: list[UnlearningResult],
    retrain_times: list[float],
) -> HtmlReport:
    s = summary
    report = HtmlReport(
        "GDPR erasure on Taiwan credit-default clients",
        subtitle=f"unlearnkit {__version__} demonstration: exact unlearning vs retraining",
        data={
            "summary": summary,
            "config": config,
            "requests": rows,
            "coefficients": coefficients,
            "retrain_seconds_each": retrain_times,
            "environment": environment,
            "results": [r.to_dict() for r in results],
        },
    )
    scenario = report.section("Scenario")
    scenario.paragraph(
        f"Data: the {s['clients']:,} clients of the Default of Credit Card Clients data "
        f"(Taiwan, Yeh & Lien 2009; file {config['data_file']}, SHA-256 "
        f"{config['data_sha256']}), one row per client, the client ID being both sample id and "
        f"data subject. A seeded shuffle (random_state={config['random_state']}) put "
        f"{s['train_clients']:,} clients into training and {s['test_clients']:,} into testing."
    )
    scenario.paragraph(
        f"Model: RidgeUnlearner(alpha={config['alpha']}) on the {s['features']} standardised "
        "features, a linear scoring model of default risk; a score of 0.5 or more predicts a "
        "default. The scaler was fitted on the training clients before any request and is a "
        "fixed preprocessing step: it is not refitted when clients leave, so its means and "
        "standard deviations still reflect the erased clients (by about one part in "
        f"{s['train_clients']:,} each). The retrain uses the same scaled features, so model and "
        "retrain are compared on equal terms."
    )
    scenario.paragraph(
        f"Requests: {s['requests']} erasure requests with reason 'privacy'. Single-client "
        "requests alternate between ForgetRequest.of_subject(client), resolved through the "
        "training Samples, and ForgetRequest.items([client]), whose sample id is already known; "
        + (
            f"the last request is a batch of {config['batch_size']} clients. "
            if config["batch_size"]
            else ""
        )
        + "Each was carried out with model.unlearn(...) and timed with a wall clock around the "
        f"call. Then scikit-learn's Ridge was retrained from scratch on the "
        f"{s['clients_retained']:,} retained clients ({config['retrain_repeats']} timed fits, "
        "median reported)."
    )

    results_section = report.section("Results")
    verdict = (
        "The unlearned model equals the retrained one"
        if s["coefficients_match_retrain"]
        else "The unlearned model does NOT equal the retrained one"
    )
    results_section.paragraph(
        f"{verdict}: the largest coefficient difference is {s['max_abs_coef_diff']:.3g} "
        f"({s['max_rel_coef_diff']:.3g} relative to the largest coefficient; tolerance "
        f"{config['match_rtol']:g}), while erasing the clients moved the coefficients by up to "
        f"{s['max_abs_coef_change_from_erasure']:.3g}. Every request reported the guarantee "
        f"'{s['guarantee']}'."
    )
    results_section.metrics(
        {
            "guarantee": s["guarantee"],
            "coefficients match retrain (rtol 1e-8)": s["coefficients_match_retrain"],
            "max |coef diff| to retrain": s["max_abs_coef_diff"],
            "max relative coef diff": s["max_rel_coef_diff"],
            "|intercept diff| to retrain": s["intercept_abs_diff"],
            "max |coef change| caused by erasure": s["max_abs_coef_change_from_erasure"],
            "test accuracy before unlearning": s["test_accuracy_before"],
            "test accuracy after unlearning": s["test_accuracy_after"],
            "test accuracy of retrain": s["test_accuracy_retrain"],
            "test predictions equal to retrain's": s["test_prediction_agreement_with_retrain"],
            "majority-class test accuracy": s["majority_class_test_accuracy"],
            "retrain seconds (median of repeats)": s["retrain_seconds"],
            "unlearn seconds, of_subject request (median)": s["unlearn_seconds_median_subject"],
            "unlearn seconds, items request (median)": s["unlearn_seconds_median_items"],
            "unlearn seconds, batch request": s["unlearn_seconds_batch"],
            "unlearn seconds, all requests": s["unlearn_seconds_total"],
            "speed-up, of_subject request (retrain / unlearn)": s["speedup_subject_request"],
            "speed-up, items request": s["speedup_items_request"],
            "speed-up, batch request": s["speedup_batch_request"],
            "retrain seconds, one retrain per request": s["retrain_seconds_one_per_request"],
            "speed-up, all requests (one retrain per request / all unlearning)": s["speedup_total"],
        },
        caption="Headline figures (all measured in this run)",
    )

    timing = report.section("Time per request")
    timing.paragraph(
        "Each point is one request; the dashed line is one retrain from scratch. Honouring a "
        "request by retraining costs the line every time; unlearning costs the point. An "
        "of_subject request also pays for finding the subject's rows in the training Samples "
        "(a scan of the whole training table), which an items request, whose sample ids come "
        "from the books, does not."
    )
    timing.figure(
        _timing_figure(rows, s["retrain_seconds"]),
        caption="Unlearn time per request vs retrain time (log scale)",
    )
    timing.table(
        [{k: v for k, v in r.items() if k != "request_id"} for r in rows],
        columns=[
            "request",
            "kind",
            "subject",
            "rows_removed",
            "seconds",
            "speedup_vs_retrain",
            "retrained_fraction",
            "guarantee",
        ],
        caption="Requests",
    )

    report.section("Coefficients").table(
        coefficients, caption="Per feature: before, after unlearning, retrained from scratch"
    )
    notes = report.section("Environment")
    notes.paragraph(
        "Times are wall-clock seconds measured in this run on this machine; they vary from run "
        "to run and between machines. 'exact' means the model after unlearning is the model "
        "that training on the retained clients gives, which the coefficient comparison above "
        "checks."
    )
    notes.metrics(environment)
    return report
