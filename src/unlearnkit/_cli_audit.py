"""``unlearnkit audit``: audit a saved model on saved data.

The command reads the training table and a held-out table, the ids the model should have
forgotten, the model (an unlearnkit model file, or a joblib/pickle file of a scikit-learn
classifier) and optionally a retrained reference, runs :func:`unlearnkit.evaluate.audit`, prints
the verdict and metrics, and writes the report as JSON and HTML.

Exit codes: 0 the audit ran (and, with ``--check``, found the data forgotten); 3 invalid input;
4 file not found; with ``--check``, 5 not forgotten and 6 inconclusive.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from unlearnkit import _cli_io as io
from unlearnkit.errors import DatasetNotFoundError, DataValidationError, UnlearnError

__all__ = ["EXIT_INCONCLUSIVE", "EXIT_NOT_FORGOTTEN", "app", "audit_command"]

EXIT_INVALID = 3
EXIT_NOT_FOUND = 4
EXIT_NOT_FORGOTTEN = 5
EXIT_INCONCLUSIVE = 6


def _fail(message: str, code: int) -> NoReturn:
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(f"[bold red]error:[/bold red] [red]{escape(' '.join(message.split()))}[/red]")
    raise typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except (typer.Exit, typer.Abort, typer.BadParameter):
        raise
    except (DatasetNotFoundError, FileNotFoundError) as exc:
        _fail(str(exc), EXIT_NOT_FOUND)
    except UnlearnError as exc:
        _fail(str(exc), EXIT_INVALID)


def load_classifier(path: Path) -> Any:
    """A model from an unlearnkit model file, or a joblib / pickle file."""
    from unlearnkit.persistence import MAGIC, load

    if not path.is_file():
        raise FileNotFoundError(f"Model file {str(path)!r} does not exist; check the path.")
    with open(path, "rb") as fh:
        head = fh.read(len(MAGIC))
    if head == MAGIC:
        return load(path)
    import joblib

    try:
        return joblib.load(path)
    except Exception as exc:
        raise DataValidationError(
            f"Cannot read {str(path)!r} as an unlearnkit model or a joblib/pickle file: {exc}"
        ) from None


def _samples(
    path: Path,
    *,
    target: str,
    id_column: str | None,
    features: list[str] | None,
    drop: list[str],
    console: Console,
) -> Any:
    from unlearnkit.data import Samples

    frame = io.read_table(path, console)
    columns = io.select_features(frame, reserved=(target, id_column), features=features, drop=drop)
    return Samples.from_frame(
        frame, target=target, id_column=id_column, feature_columns=columns, name=path.name
    )


def audit_command(
    model_path: Annotated[
        Path,
        typer.Argument(metavar="MODEL", help="The unlearned model (unlearnkit or joblib file)."),
    ],
    data: Annotated[
        Path, typer.Option("--data", "-d", help="The training table the model was fitted on.")
    ],
    test: Annotated[Path, typer.Option("--test", help="Held-out table, never trained on.")],
    target: Annotated[str, typer.Option("--target", "-t", help="Target column.")],
    forget_ids: Annotated[
        str | None, typer.Option("--ids", help="Comma-separated ids that were forgotten.")
    ] = None,
    ids_file: Annotated[
        Path | None,
        typer.Option("--ids-file", help="File of forgotten ids (one per line; - for stdin)."),
    ] = None,
    id_column: Annotated[
        str | None, typer.Option("--id-column", help="Column of sample ids (default: row numbers).")
    ] = None,
    reference: Annotated[
        Path | None, typer.Option("--reference", help="A model retrained without the forget set.")
    ] = None,
    original: Annotated[
        Path | None, typer.Option("--original", help="The model before unlearning.")
    ] = None,
    features: Annotated[
        str | None, typer.Option("--features", help="Comma-separated feature columns.")
    ] = None,
    drop: Annotated[
        str | None, typer.Option("--drop", help="Comma-separated columns to leave out.")
    ] = None,
    attacks: Annotated[
        str | None,
        typer.Option(
            "--attacks",
            help="Comma-separated checks: loss, mia_efficacy, lira, rmia, ulira, neurips, "
            "deletions (default: all but deletions).",
        ),
    ] = None,
    n_shadow: Annotated[int, typer.Option("--n-shadow", help="Shadow models (even).")] = 16,
    backend: Annotated[
        str, typer.Option("--backend", help="Where shadow models train: local or ray.")
    ] = "local",
    n_jobs: Annotated[int | None, typer.Option("--n-jobs", help="Parallel workers.")] = None,
    cache: Annotated[
        Path | None, typer.Option("--cache", help="Folder to keep trained shadow models in.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the report as OUT.json and OUT.html."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON instead of tables.")
    ] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help=f"Exit {EXIT_NOT_FORGOTTEN} when not forgotten, {EXIT_INCONCLUSIVE} when "
            "inconclusive.",
        ),
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
) -> None:
    """Audit whether a saved model forgot the given samples; print and save the verdict."""
    from unlearnkit.evaluate import ATTACKS, audit
    from unlearnkit.evaluate.audit import DEFAULT_ATTACKS

    if (forget_ids is None) == (ids_file is None):
        raise typer.BadParameter("give exactly one of --ids and --ids-file.", param_hint="--ids")
    names = tuple(io.split_list(attacks)) if attacks is not None else DEFAULT_ATTACKS
    unknown = sorted(set(names) - set(ATTACKS))
    if unknown:
        raise typer.BadParameter(
            f"unknown checks {unknown}; choose from {', '.join(ATTACKS)}.", param_hint="--attacks"
        )
    err = Console(stderr=True, highlight=False)
    with _errors():
        feature_list = io.split_list(features) if features is not None else None
        drop_list = io.split_list(drop) if drop is not None else []
        train = _samples(
            data,
            target=target,
            id_column=id_column,
            features=feature_list,
            drop=drop_list,
            console=err,
        )
        held = _samples(
            test,
            target=target,
            id_column=None,
            features=train.feature_names,
            drop=[],
            console=err,
        )
        tokens = (
            io.split_list(forget_ids)
            if forget_ids is not None
            else io.read_id_tokens(
                ids_file  # type: ignore[arg-type]
            )
        )
        integer_ids = train.ids.dtype.kind in "iu"
        ids = [io.coerce_id(t, integer_ids) for t in tokens]
        model = load_classifier(model_path)
        ref = None if reference is None else load_classifier(reference)
        orig = None if original is None else load_classifier(original)
        with err.status(f"Auditing {model_path.name} on {len(ids):,} forgotten samples"):
            report = audit(
                model,
                data=train,
                forget_ids=ids,
                test=held,
                reference=ref,
                original=orig,
                attacks=names,
                n_shadow=n_shadow,
                backend=backend,
                n_jobs=n_jobs,
                cache=cache,
                random_state=seed,
            )
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            report.to_json(out.with_suffix(".json"))
            report.to_html(out.with_suffix(".html"))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        console = Console(highlight=False)
        colour = {"forgotten": "green", "not_forgotten": "red"}.get(report.verdict, "yellow")
        console.print(
            f"[bold {colour}]{report.verdict}[/bold {colour}] "
            f"(confidence {report.confidence:.3f}): {escape(report.reason)}"
        )
        table = Table(title="metrics", title_justify="left", show_header=False)
        table.add_column("metric", style="bold")
        table.add_column("value", justify="right")
        for key, value in report.metrics.items():
            table.add_row(escape(key), f"{value:.4g}")
        console.print(table)
        for note in report.notes:
            console.print(f"[dim]note: {escape(note)}[/dim]")
        if out is not None:
            console.print(f"report written to {out.with_suffix('.json')} and .html")
    if check and report.verdict != "forgotten":
        sys.stdout.flush()
        raise typer.Exit(
            EXIT_NOT_FORGOTTEN if report.verdict == "not_forgotten" else EXIT_INCONCLUSIVE
        )


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
app.command(name="audit")(audit_command)
