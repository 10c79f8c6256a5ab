"""The ``unlearnkit`` command: fit unlearnable models on tables and make them forget.

Commands
--------
``unlearnkit methods [--json] [--family estimators|approximate|llm|all]``
    The registered unlearning methods: name, class, guarantee, request kinds, task, summary;
    estimators (what ``fit`` / ``forget`` take), approximate methods for PyTorch classifiers and
    language-model methods.
``unlearnkit fit DATA --method NAME --target COL --out MODEL [...]``
    Fit a method on a CSV/TSV or Parquet table (format chosen by the file suffix) and save it.
    With ``--subject-column COL`` the mapping subject -> sample ids is written beside the model
    as ``MODEL.subjects.json``, so ``forget --subject`` works later without the data file.
``unlearnkit forget MODEL (--ids | --ids-file | --subject | --where | --classes | --features |
--relabel) [--reason R] [--out NEW_MODEL] [--json RESULT.json]``
    Carry out one forget request and save the model (back to MODEL, atomically, unless
    ``--out`` is given). Forgotten ids leave the subject file too; a subject with no rows left
    leaves it altogether. ``--where COL=VALUE`` is evaluated on the model's own training table:
    its feature columns and the target, named ``y``. Ids are integers when the model was fitted
    with integer ids, else text.
``unlearnkit audit MODEL --data TABLE --test TABLE --target COL (--ids | --ids-file) [--check]``
    Audit whether a saved model forgot the given samples (membership-inference attacks against
    a retrained reference) and write the HTML + JSON report.
``unlearnkit ledger verify|status|attach-audit|artifact [--db URL]``
    The books: recompute the audit log's hash chain (names the first tampered entry), show the
    state of requests and models, attach an audit report to a model version, fetch a model
    version's file (a version purged after an erasure exits 4 naming the request).
``unlearnkit tokens create --role ROLE [--db URL]``
    Create an API token for the service (printed as the last word).
``unlearnkit certificate verify FILE``
    Check an erasure certificate's Ed25519 signature.
``unlearnkit serve [--host H] [--port P] [--db URL]``, ``unlearnkit worker [--db URL]``
    The REST API, worker and dashboard in one process; a separate worker (PostgreSQL).
``unlearnkit llm benchmark [--method M] [--seed S] [--split forget10]``
``unlearnkit llm forget --model DIR --forget FILE --method NAME``
    Unlearning in causal language models: the offline TOFU-style benchmark, and forgetting
    documents from a saved Hugging Face model.
``unlearnkit demo [--output-dir DIR] [--requests N]``
    Run the end-to-end demonstration and write its report.
``unlearnkit version`` (or ``unlearnkit --version``)
    Print the version.

Exit codes
----------
==  ===========================================================================================
0   success
1   unexpected error (a bug or an environment problem; ``unlearnkit --traceback ...`` shows it)
2   usage error: unknown option, missing argument, malformed ``KEY=VALUE`` in ``--param``,
    ``--where`` or ``--relabel``, or not exactly one request option given to ``forget``
3   invalid input or request: any unlearnkit error other than the next (bad parameter value,
    unknown or already-forgotten sample id, unsupported request kind, unreadable table, ...);
    the model file is left untouched
4   a file or dataset was not found (data file, model, ids file, subject file, demo dataset)
5   ``audit --check``: the model has not forgotten the samples
6   ``audit --check``: the audit is inconclusive (the reason is printed)
==  ===========================================================================================

Errors print one red line on standard error, without a traceback.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from unlearnkit import __version__
from unlearnkit import _cli_io as io
from unlearnkit._cli_audit import audit_command
from unlearnkit._cli_llm import app as llm_app
from unlearnkit._cli_service import register as register_service_commands
from unlearnkit.errors import (
    DatasetNotFoundError,
    DataValidationError,
    InvalidParameterError,
    InvalidRequestError,
    UnlearnError,
)
from unlearnkit.requests import ForgetRequest, Reason

__all__ = [
    "EXIT_INVALID",
    "EXIT_NOT_FOUND",
    "EXIT_OK",
    "EXIT_UNEXPECTED",
    "EXIT_USAGE",
    "app",
]

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2
EXIT_INVALID = 3
EXIT_NOT_FOUND = 4

_HELP = (
    "Make trained models forget data: fit an unlearnable model on a table, then forget sample "
    "ids, a subject's rows, a group, classes, features or wrong labels.\n\n"
    "[bold]Exit codes[/bold]\n"
    "0  success\n"
    "1  unexpected error (rerun as `unlearnkit --traceback ...` for details)\n"
    "2  usage error: bad option, malformed KEY=VALUE, not exactly one forget request option\n"
    "3  invalid input or request: bad parameter value, unknown id, unsupported request, "
    "unreadable table (the model file is left untouched)\n"
    "4  file or dataset not found\n"
    "5  `audit --check`: the model has not forgotten\n"
    "6  `audit --check`: the audit is inconclusive"
)

app = typer.Typer(
    name="unlearnkit",
    help=_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command(name="audit")(audit_command)
app.add_typer(llm_app, name="llm")


class _State:
    traceback = False


def _out() -> Console:
    return Console(highlight=False)


def _err() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(message: str, code: int, exc: BaseException | None = None) -> NoReturn:
    console = _err()
    if exc is not None and _State.traceback:
        console.print("".join(traceback.format_exception(exc)), end="", markup=False, style="dim")
    text = " ".join(message.split())
    console.print(f"[bold red]error:[/bold red] [red]{escape(text)}[/red]")
    raise typer.Exit(code)


def _describe_os_error(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename!s}"
    return str(exc)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn exceptions into one red line on stderr and the documented exit code."""
    try:
        yield
    except (typer.Exit, typer.Abort, typer.TyperException):
        raise
    except (DatasetNotFoundError, FileNotFoundError) as exc:
        _fail(_describe_os_error(exc), EXIT_NOT_FOUND, exc)
    except UnlearnError as exc:
        _fail(str(exc), EXIT_INVALID, exc)
    except OSError as exc:
        _fail(_describe_os_error(exc), EXIT_UNEXPECTED, exc)
    except Exception as exc:
        _fail(
            f"unexpected {type(exc).__name__}: {exc} "
            "(rerun as `unlearnkit --traceback ...` for details)",
            EXIT_UNEXPECTED,
            exc,
        )


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"unlearnkit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
    show_traceback: Annotated[
        bool,
        typer.Option("--traceback", help="Print the full traceback when a command fails."),
    ] = False,
) -> None:
    """Make trained models forget data."""
    _State.traceback = show_traceback


# -- methods ------------------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


def _method_row(
    family: str,
    name: str,
    cls: type,
    guarantee: Any,
    request_kinds: Iterable[str],
    task: str,
    summary: str,
    params: Any = None,
) -> dict[str, Any]:
    """One row of ``unlearnkit methods``: the same fields for every family."""
    return {
        "family": family,
        "name": name,
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "guarantee": guarantee.to_dict() | {"label": str(guarantee)},
        "request_kinds": sorted(request_kinds),
        "task": task,
        "summary": summary,
        "params": _jsonable(params or {}),
    }


def _estimator_rows() -> list[dict[str, Any]]:
    from unlearnkit.registry import methods as registry

    return [
        _method_row(
            "estimators", name, info.cls, info.guarantee, info.request_kinds, info.task,
            info.summary, info.params,
        )
        for name, info in registry
    ]  # fmt: skip


def _approximate_rows() -> list[dict[str, Any]]:
    from unlearnkit.approximate import methods as registry

    return [
        _method_row(
            "approximate", name, info.config, info.guarantee, info.request_kinds,
            "PyTorch classifier", info.summary,
        )
        for name, info in registry
    ]  # fmt: skip


def _llm_rows() -> list[dict[str, Any]]:
    from unlearnkit.guarantees import Guarantee
    from unlearnkit.llm import llm_methods as registry

    return [
        _method_row(
            "llm", name, info.config_cls, Guarantee.approximate(), ("documents", "subject"),
            "causal language model", info.summary,
        )
        for name, info in registry
    ]  # fmt: skip


#: Method families of ``unlearnkit methods``: the title of each table and what lists its rows.
_FAMILIES: dict[str, tuple[str, Callable[[], list[dict[str, Any]]]]] = {
    "estimators": ("unlearnkit methods: estimators (unlearnkit fit / forget)", _estimator_rows),
    "approximate": (
        "approximate unlearning of PyTorch classifiers (unlearnkit.approximate)",
        _approximate_rows,
    ),
    "llm": ("language-model unlearning (unlearnkit.llm)", _llm_rows),
}


@app.command()
def methods(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the methods as a JSON list instead of a table.")
    ] = False,
    family: Annotated[
        str,
        typer.Option(
            help="Which methods: estimators (fit / forget on tables), approximate (PyTorch "
            "classifiers), llm (causal language models) or all."
        ),
    ] = "all",
) -> None:
    """List the registered unlearning methods and what each guarantees."""
    with _errors():
        if family not in (*_FAMILIES, "all"):
            raise InvalidParameterError(
                f"--family {family!r} is not one of {', '.join((*_FAMILIES, 'all'))}."
            )
        chosen = [fam for fam in _FAMILIES if family in (fam, "all")]
        tables = {fam: _FAMILIES[fam][1]() for fam in chosen}
        if as_json:
            typer.echo(json.dumps([row for rows in tables.values() for row in rows], indent=2))
            return
        for fam, rows in tables.items():
            if not rows:
                continue
            table = Table(title=_FAMILIES[fam][0], title_justify="left")
            table.add_column("name", no_wrap=True)
            table.add_column("class", overflow="fold")
            table.add_column("guarantee", overflow="fold")
            table.add_column("request kinds")
            table.add_column("task", overflow="fold")
            table.add_column("summary", ratio=1)
            for row in rows:
                table.add_row(
                    f"[bold]{escape(row['name'])}[/bold]",
                    escape(row["class"].rsplit(".", 1)[-1]),
                    escape(row["guarantee"]["label"]),
                    escape(", ".join(row["request_kinds"])),
                    escape(row["task"]),
                    escape(row["summary"]),
                )
            _out().print(table)


# -- fit ----------------------------------------------------------------------------------
@app.command()
def fit(
    data: Annotated[
        Path,
        typer.Argument(
            metavar="DATA", help="Training table: .csv, .tsv (optionally .gz) or .parquet."
        ),
    ],
    method: Annotated[
        str, typer.Option("--method", "-m", help="Registered method (see `unlearnkit methods`).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to save the fitted model.")],
    target: Annotated[
        str | None,
        typer.Option(
            "--target", "-t", help="Target column (required except for clustering methods)."
        ),
    ] = None,
    id_column: Annotated[
        str | None,
        typer.Option(
            "--id-column", help="Column of unique sample ids (default: row numbers 0..n-1)."
        ),
    ] = None,
    subject_column: Annotated[
        str | None,
        typer.Option(
            "--subject-column",
            help="Column naming each row's data subject; saved as MODEL.subjects.json.",
        ),
    ] = None,
    features: Annotated[
        str | None,
        typer.Option(
            "--features", help="Comma-separated feature columns (default: all other columns)."
        ),
    ] = None,
    drop: Annotated[
        str | None,
        typer.Option("--drop", help="Comma-separated columns to leave out of the features."),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            help="Method parameter KEY=VALUE (repeatable); values parse as int, float, bool, "
            "None or text.",
        ),
    ] = None,
    weight_column: Annotated[
        str | None, typer.Option("--weight-column", help="Column of sample weights.")
    ] = None,
    shards: Annotated[
        int | None,
        typer.Option("--shards", help="SISA: number of shards (the n_shards parameter)."),
    ] = None,
    slices: Annotated[
        int | None,
        typer.Option("--slices", help="SISA: slices per shard (the n_slices parameter)."),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option("--backend", help="SISA: where shards train, 'local' or 'ray'."),
    ] = None,
    n_jobs: Annotated[
        int | None,
        typer.Option("--n-jobs", help="SISA: local processes, or CPUs of a local Ray."),
    ] = None,
) -> None:
    """Fit an unlearnable model on a table and save it.

    Feature columns must be numeric; the sample ids (--id-column) are what `forget` names.
    `--method sisa` is `sisa_classifier` for a target of labels (text, booleans or integers)
    and `sisa_regressor` for a floating-point target.
    """
    params = io.parse_params(param)
    for key, value in (
        ("n_shards", shards),
        ("n_slices", slices),
        ("backend", backend),
        ("n_jobs", n_jobs),
    ):
        if value is not None:
            if key in params:
                raise typer.BadParameter(
                    f"{key} is given both as an option and as --param {key}=...; give it once.",
                    param_hint="--param",
                )
            params[key] = value
    feature_list = io.split_list(features) if features is not None else None
    drop_list = io.split_list(drop) if drop is not None else []
    from unlearnkit.data import Samples
    from unlearnkit.registry import methods as registry

    err = _err()
    with _errors():
        frame = None
        if method == "sisa":
            if target is None:
                raise typer.BadParameter(
                    "method 'sisa' needs a target column.", param_hint="--target"
                )
            frame = io.read_table(data, err)
            if target not in frame.columns:
                raise DataValidationError(
                    f"Target column {target!r} is not in the table; it has "
                    f"{', '.join(map(str, frame.columns[:12]))}."
                )
            floating = pd.api.types.is_float_dtype(frame[target])
            method = "sisa_regressor" if floating else "sisa_classifier"
        info = registry.get(method)
        if target is None and info.task != "clustering":
            raise typer.BadParameter(
                f"method {method!r} is a {info.task} method and needs a target column.",
                param_hint="--target",
            )
        model = info.create(**params)
        model._validate_params()  # fail on a bad value before reading a large file
        if frame is None:
            frame = io.read_table(data, err)
        reserved = (target, id_column, subject_column, weight_column)
        columns = io.select_features(
            frame, reserved=reserved, features=feature_list, drop=drop_list
        )
        samples = Samples.from_frame(
            frame,
            target=target,
            id_column=id_column,
            subject_column=subject_column,
            feature_columns=columns,
            name=data.name,
        )
        fit_kwargs: dict[str, Any] = {"sample_ids": samples.ids}
        if weight_column is not None:
            fit_kwargs["sample_weight"] = frame[weight_column].to_numpy()
        with err.status(f"Fitting {method} on {len(samples):,} rows x {len(columns):,} features"):
            model.fit(samples.X, samples.y, **fit_kwargs)
            saved = model.save(out)
        mapping = (
            io.subjects_from_column(samples.subjects, samples.ids)
            if samples.subjects is not None
            else None
        )
        subject_file = io.write_subjects(saved, subject_column, mapping)

        table = Table(title=f"Fitted {method}", title_justify="left", show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        table.add_row("data", escape(str(data)))
        table.add_row("rows", f"{model.n_samples_:,}")
        table.add_row(
            "features",
            escape(f"{len(columns)}: {', '.join(columns[:12])}")
            + (", ..." if len(columns) > 12 else ""),
        )
        table.add_row("target", escape(str(target)))
        table.add_row("method", escape(f"{method} ({type(model).__name__})"))
        table.add_row("guarantee", escape(str(model.guarantee)))
        table.add_row("fingerprint", model.fingerprint())
        table.add_row("model", escape(str(saved)))
        if subject_file is not None and mapping is not None:
            table.add_row("subjects", escape(f"{len(mapping):,} in {subject_file}"))
        _out().print(table)


# -- forget -------------------------------------------------------------------------------
_REQUEST_OPTIONS = (
    "--ids",
    "--ids-file",
    "--subject",
    "--where",
    "--classes",
    "--features",
    "--relabel",
)


def _load_model(path: Path) -> Any:
    from unlearnkit.base import Unlearner
    from unlearnkit.persistence import load

    if not path.is_file():
        raise FileNotFoundError(f"Model file {str(path)!r} does not exist; check the path.")
    model: Any = load(path)
    if not isinstance(model, Unlearner):
        raise InvalidRequestError(
            f"{str(path)!r} holds a {type(model).__name__}, not an unlearnkit model."
        )
    return model


def _build_request(
    model: Any,
    model_path: Path,
    *,
    ids: str | None,
    ids_file: Path | None,
    subject: str | None,
    where: list[tuple[str, str]],
    classes: str | None,
    features: str | None,
    relabel: list[tuple[str, str]],
    reason: Reason | None,
) -> ForgetRequest:
    extra: dict[str, Any] = {} if reason is None else {"reason": reason}
    integer_ids = model.sample_ids_.dtype.kind in "iu"
    labels = getattr(model, "classes_", None)
    if ids is not None or ids_file is not None:
        tokens = io.split_list(ids) if ids is not None else io.read_id_tokens(ids_file)  # type: ignore[arg-type]
        if not tokens:
            raise InvalidRequestError("No sample ids were given; name at least one id.")
        return ForgetRequest.items([io.coerce_id(t, integer_ids) for t in tokens], **extra)
    if subject is not None:
        _, mapping = io.read_subjects(model_path)
        if subject not in mapping:
            raise InvalidRequestError(
                f"Subject {subject!r} has no samples in this model: it was never in the "
                "training data or its rows were already forgotten."
            )
        return ForgetRequest.items(mapping[subject], subject=subject, **extra)
    if where:
        condition: dict[str, list[Any]] = {}
        for column, value in where:
            condition.setdefault(column, []).append(io.coerce_where_value(column, value, labels))
        return ForgetRequest.group(
            {c: v[0] if len(v) == 1 else v for c, v in condition.items()}, **extra
        )
    if classes is not None:
        return ForgetRequest.classes(
            [io.coerce_label(t, labels) for t in io.split_list(classes)], **extra
        )
    if features is not None:
        names = getattr(model, "feature_names_in_", None)
        known = None if names is None else [str(n) for n in names]
        return ForgetRequest.features(
            [io.coerce_feature(t, known) for t in io.split_list(features)], **extra
        )
    new_labels: dict[Hashable, Any] = {}
    for sample_id, label in relabel:
        key = io.coerce_id(sample_id, integer_ids)
        if key in new_labels:
            raise InvalidRequestError(f"Sample id {key!r} is relabelled twice; give it once.")
        new_labels[key] = io.coerce_label(label, labels)
    return ForgetRequest.relabel(new_labels, **extra)


def _result_table(result: Any, saved: Path) -> Table:
    table = Table(title="Unlearning result", title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("request id", result.request_id)
    table.add_row("kind", result.kind)
    table.add_row("reason", escape(str(result.reason)))
    if result.subject is not None:
        table.add_row("subject", escape(result.subject))
    table.add_row("removed", f"{len(result.removed_ids):,} samples")
    if result.relabeled_ids:
        table.add_row("relabelled", f"{len(result.relabeled_ids):,} samples")
    if result.removed_features:
        table.add_row("removed features", escape(", ".join(map(str, result.removed_features))))
    table.add_row("guarantee", escape(str(result.guarantee)))
    table.add_row("seconds", f"{result.seconds:.6f}")
    table.add_row("retrained fraction", f"{result.retrained_fraction:.6g}")
    table.add_row("fingerprint before", result.fingerprint_before)
    table.add_row("fingerprint after", result.fingerprint_after)
    table.add_row("model", escape(str(saved)))
    return table


@app.command()
def forget(
    model_path: Annotated[Path, typer.Argument(metavar="MODEL", help="A saved model file.")],
    ids: Annotated[
        str | None, typer.Option("--ids", help="Comma-separated sample ids to forget.")
    ] = None,
    ids_file: Annotated[
        Path | None,
        typer.Option(
            "--ids-file",
            help="File of sample ids, one per line or comma-separated ('-' reads stdin).",
        ),
    ] = None,
    subject: Annotated[
        str | None,
        typer.Option(
            "--subject", help="Forget every row of this subject (needs MODEL.subjects.json)."
        ),
    ] = None,
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            help="Forget rows where COL=VALUE (repeatable: different columns must all hold, "
            "repeated columns match any value). Columns are the model's features and `y`.",
        ),
    ] = None,
    classes: Annotated[
        str | None,
        typer.Option("--classes", help="Comma-separated class labels to remove from the model."),
    ] = None,
    features: Annotated[
        str | None,
        typer.Option("--features", help="Comma-separated feature columns (names or positions)."),
    ] = None,
    relabel: Annotated[
        list[str] | None,
        typer.Option("--relabel", help="Correct a label: ID=LABEL (repeatable)."),
    ] = None,
    reason: Annotated[
        Reason | None,
        typer.Option(
            "--reason",
            case_sensitive=False,
            help="Why (default: privacy; usability for --classes; poison for --relabel).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Save the new model here instead of over MODEL."),
    ] = None,
    json_out: Annotated[
        str | None,
        typer.Option(
            "--json", metavar="RESULT.json", help="Write the result as JSON ('-' for stdout)."
        ),
    ] = None,
) -> None:
    """Forget data from a saved model; give exactly one request option.

    The model is saved back to MODEL (atomically) or to --out. On any error it is untouched.
    """
    given = [
        name
        for name, value in zip(
            _REQUEST_OPTIONS,
            (ids, ids_file, subject, where, classes, features, relabel),
            strict=True,
        )
        if value
    ]
    if len(given) != 1:
        raise typer.BadParameter(
            f"give exactly one of {', '.join(_REQUEST_OPTIONS)}"
            + (f" (got {', '.join(given)})." if given else "."),
            param_hint="request",
        )
    where_pairs = io.parse_assignments(where, "--where")
    relabel_pairs = io.parse_assignments(relabel, "--relabel")

    with _errors():
        model = _load_model(model_path)
        request = _build_request(
            model,
            model_path,
            ids=ids,
            ids_file=ids_file,
            subject=subject,
            where=where_pairs,
            classes=classes,
            features=features,
            relabel=relabel_pairs,
            reason=reason,
        )
        subject_file = io.subjects_path(model_path)
        subject_column, mapping = (
            io.read_subjects(model_path) if subject_file.is_file() else (None, None)
        )
        with _err().status(f"Unlearning ({request.kind} request)"):
            result = model.unlearn(request)
        target = out if out is not None else model_path
        saved = model.save(target)
        if mapping is not None:
            mapping = io.update_subjects(mapping, result.removed_ids)
        io.write_subjects(saved, subject_column, mapping)
        payload = json.dumps(result.to_dict(), indent=2)
        if json_out == "-":
            typer.echo(payload)
            _err().print(_result_table(result, saved))
            return
        if json_out is not None:
            json_path = Path(json_out)
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(payload + "\n")
        _out().print(_result_table(result, saved))
        if json_out is not None:
            _out().print(f"Result written to {escape(json_out)}")


# -- demo and version ---------------------------------------------------------------------
@app.command()
def demo(
    output_dir: Annotated[
        Path | None,
        typer.Option("--output-dir", "-o", help="Where the report goes (default: chosen by demo)."),
    ] = None,
    requests: Annotated[
        int, typer.Option("--requests", "-n", min=1, help="Number of forget requests to run.")
    ] = 20,
    random_state: Annotated[
        int, typer.Option("--random-state", help="Seed of the demonstration.")
    ] = 0,
) -> None:
    """Run the end-to-end demonstration on a real dataset and write its HTML + JSON report."""
    console = _out()
    with _errors():
        from unlearnkit.demo import run_demo

        run_demo(output_dir, n_requests=requests, random_state=random_state, console=console)


@app.command()
def version() -> None:
    """Print the unlearnkit version."""
    typer.echo(f"unlearnkit {__version__}")


register_service_commands(app)

if __name__ == "__main__":  # pragma: no cover - `python -m unlearnkit.cli`
    app(prog_name="unlearnkit")
