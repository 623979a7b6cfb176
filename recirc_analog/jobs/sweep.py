"""The sweep job: run ``train`` or ``cosim`` over a grid of configurations on Dask distributed.

A study file (TOML) names the command, its base arguments, a ``[grid]`` of lists
(every combination runs) and an optional ``[zip]`` of equal-length lists
(advanced together); keys are the command's own long option names. Every
point is checked with the command's real parser before anything runs.

Each point runs in its own folder ``DIR/points/<hash>/`` named by a hash of
its resolved arguments (the parsed namespace, so ``lr = 0.001`` and leaving
the default give the same point). A point is finished when its
``summary.json`` exists and its ``status.json`` says ``ok``; a rerun skips
finished points, so a crash or a killed worker loses at most the points in
flight. ``DIR/results.csv`` (one row per point, in grid order) is rewritten
atomically after every completion, and plots are drawn at the end.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import time
import uuid
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, RecircError, SetupError, UsageError
from ..fileio import atomic_open, write_json_atomic

SWEEP_COMMANDS = ("train", "cosim")
"""Commands a study may run."""

FORBIDDEN_KEYS = ("out", "resume", "quiet", "help")
"""Options the sweep owns (each point's folder, resuming, silence)."""

TABLES = ("base", "grid", "zip")
"""The tables a study file may hold besides ``command``."""

LOSS_COLUMNS = {"train": ("final_test_loss",),
                "cosim": ("final_test_loss_cosim", "final_test_loss_reference")}
"""summary.json entries copied into results.csv, per command; the first is plotted."""

_IGNORED_IN_HASH = ("out", "resume", "quiet", "handler", "given", "command")
"""Namespace entries that do not change what a point computes."""

MAX_POINTS = 100_000
"""Largest number of points a study may expand to (each is parsed before anything runs)."""

SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
"""BLAS with one thread in every worker: OpenBLAS's second thread makes small products 5-10x slower here."""


@dataclass(frozen=True)
class Point:
    """One configuration of a study: its swept values, its argv and its folder name."""

    index: int
    params: dict
    argv: tuple[str, ...]
    resolved: dict
    key: str


@dataclass
class Study:
    """A parsed and validated study: the command and its points in grid order."""

    command: str
    swept: tuple[str, ...]
    points: list[Point] = field(default_factory=list)


def load_study(path, parser_for, check=None) -> Study:
    """Read, check and expand a study file; ConfigError naming the key or point that is wrong.

    ``parser_for(command)`` returns the command's real argparse parser and
    ``check(args)`` makes the checks its run() makes before loading anything
    (both raise UsageError); the command line passes them in, as this job sits
    below the commands.
    """
    import tomllib

    try:
        with open(path, "rb") as handle:
            text = tomllib.load(handle)
    except OSError as error:
        raise UsageError(f"study file {str(path)!r}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"study file {str(path)!r} is not valid TOML: {error}") from None
    return build_study(text, parser_for, check)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def study_text(study: dict) -> str:
    """The TOML text of a study (``command``, ``[base]``, ``[grid]``, optional ``[zip]``) given as the
    dictionary ``tomllib`` reads; scripts that adjust a study before sweeping it write it with this."""
    lines = [f"command = {_toml_value(study['command'])}"]
    for table in ("base", "grid", "zip"):
        if table in study:
            lines += ["", f"[{table}]"] + [f"{key} = {_toml_value(value)}" for key, value in study[table].items()]
    return "\n".join(lines) + "\n"


def build_study(text: dict, parser_for, check=None) -> Study:
    """A :class:`Study` from the parsed TOML mapping (see :func:`load_study`)."""
    unknown = sorted(set(text) - {"command", *TABLES})
    if unknown:
        raise ConfigError(f"study: unknown entry {unknown[0]!r}; a study holds command, [base], [grid], [zip]")
    command = text.get("command")
    if command not in SWEEP_COMMANDS:
        raise ConfigError(f"study: command must be one of {', '.join(SWEEP_COMMANDS)}, got {command!r}")
    parser = parser_for(command)
    options = parser._option_string_actions
    tables = {}
    seen = {}
    for table in TABLES:
        entries = text.get(table, {})
        if not isinstance(entries, dict):
            raise ConfigError(f"study: [{table}] must be a table, got {type(entries).__name__}")
        tables[table] = {}
        for raw, value in entries.items():
            name = raw.replace("_", "-")
            where = f"{table}.{raw}"
            if name in FORBIDDEN_KEYS:
                raise ConfigError(f"study: {where}: the sweep sets --{name} itself; remove it")
            if f"--{name}" not in options:
                raise ConfigError(f"study: {where}: {command} has no option --{name}")
            if name in seen:
                raise ConfigError(f"study: {where}: --{name} is already set in [{seen[name]}]")
            seen[name] = table
            if table == "base":
                _check_scalar(where, value)
            else:
                if not isinstance(value, list) or not value:
                    raise ConfigError(f"study: {where} must be a non-empty list of values")
                for item in value:
                    _check_scalar(where, item)
            tables[table][name] = value
    zipped = tables["zip"]
    lengths = {len(v) for v in zipped.values()}
    if len(lengths) > 1:
        raise ConfigError("study: the [zip] lists must have equal lengths, got "
                          + ", ".join(f"{k} {len(v)}" for k, v in zipped.items()))
    n_zip = lengths.pop() if lengths else 1
    total = n_zip
    for values in tables["grid"].values():
        total *= len(values)
    if total > MAX_POINTS:
        raise ConfigError(f"study: {total} points, at most {MAX_POINTS} (split the study)")
    grid_names = list(tables["grid"])
    zip_names = list(zipped)
    study = Study(command, tuple(_dest(options, n) for n in grid_names + zip_names))
    combos = itertools.product(*(tables["grid"][n] for n in grid_names), range(n_zip))
    keys = {}
    for index, combo in enumerate(combos):
        values = dict(tables["base"])
        values.update(zip(grid_names, combo[:-1]))
        values.update({n: zipped[n][combo[-1]] for n in zip_names})
        swept = {n: values[n] for n in grid_names + zip_names}
        argv = []
        for name, value in values.items():
            argv += _argv_of(options, name, value, f"point {index}")
        label = f"point {index} ({', '.join(f'{k}={v}' for k, v in swept.items()) or 'base'})"
        resolved = _resolve(parser, check, argv, label)
        key = point_hash(command, resolved)
        if key in keys:
            raise ConfigError(f"study: {label} resolves to the same arguments as point {keys[key]}")
        keys[key] = index
        params = {_dest(options, n): v for n, v in swept.items()}
        study.points.append(Point(index, params, tuple(argv), resolved, key))
    return study


def _dest(options, name: str) -> str:
    return options[f"--{name}"].dest


def _check_scalar(where: str, value) -> None:
    if isinstance(value, (dict, list)) or not isinstance(value, (str, int, float, bool)):
        raise ConfigError(f"study: {where} must be a single value (string, number or boolean), got {value!r}")


def _argv_of(options, name: str, value, label: str) -> list[str]:
    """The argv words of one option: ``--name value``, or ``--name`` / nothing for a flag."""
    import argparse

    flag = isinstance(options[f"--{name}"], (argparse._StoreTrueAction, argparse._StoreFalseAction))
    if flag:
        if not isinstance(value, bool):
            raise ConfigError(f"study: {label}: --{name} is a flag; give true or false, got {value!r}")
        return [f"--{name}"] if value else []
    if isinstance(value, bool):
        raise ConfigError(f"study: {label}: --{name} takes a value, not {str(value).lower()}")
    # --name=value: a value starting with "-" stays a value
    return [f"--{name}={repr(value) if isinstance(value, float) else value}"]


def _resolve(parser, check, argv: list[str], label: str) -> dict:
    """Parse ``argv`` with the command's parser, then ``check`` it (None: no check); the namespace."""
    try:
        args = parser.parse_args([*argv, "--out", "."])  # the sweep gives each point its folder
        if check is not None:
            check(args)
    except UsageError as error:
        message = str(error).removeprefix(f"{parser.prog}: ")
        raise ConfigError(f"study: {label}: {message}") from None
    return {k: v for k, v in vars(args).items() if k not in _IGNORED_IN_HASH}


def point_hash(command: str, resolved: dict) -> str:
    """First 12 hex digits of the SHA-256 of the command and its sorted resolved arguments."""
    text = json.dumps({"command": command, "args": resolved}, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


# --- one point, in a worker ---------------------------------------------------------------------


def run_point(command: str, argv, folder: str, entry) -> dict:
    """Run one point in this process: ``entry([COMMAND, *ARGV, "--out", FOLDER, "--quiet"])``, where
    ``entry`` is the command line's ``main`` (returns the exit code, errors one line on stderr).

    Writes ``status.json`` (ok / failed, exit code, one-line error, wall seconds)
    and returns it. A cosim point with a checkpoint from an interrupted attempt
    resumes from it.
    """
    for name, value in SINGLE_THREAD_ENV.items():
        os.environ.setdefault(name, value)  # effective when NumPy is not imported yet in this worker

    out = Path(folder)
    if is_finished(out):
        # Dask recomputes a finished task whose result lived on a worker that died: never run a point twice.
        return _read_json(out / "status.json")
    out.mkdir(parents=True, exist_ok=True)
    (out / "status.json").unlink(missing_ok=True)
    argv = [command, *argv, "--out", str(out), "--quiet"]
    if command == "cosim":
        from ..cosim.checkpoint import CHECKPOINT_NAME

        if (out / CHECKPOINT_NAME).exists():
            argv.append("--resume")
    stderr = io.StringIO()
    start = time.perf_counter()
    try:
        with redirect_stdout(io.StringIO()), redirect_stderr(stderr):
            code = entry(argv)
        error = _last_error(stderr.getvalue()) if code else None
    except Exception as exc:  # a bug in a point must not stop the sweep
        code, error = 1, " ".join(f"{type(exc).__name__}: {exc}".split())
    status = {"status": "ok" if code == 0 else "failed", "exit_code": code, "error": error,
              "wall_seconds": time.perf_counter() - start, "command": command, "argv": argv[1:]}
    write_json_atomic(out / "status.json", status)
    return status


def _last_error(text: str) -> str:
    """The command's one-line error (its last ``recirc-analog:`` line that is not a warning)."""
    lines = [line for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("recirc-analog:")
              and not line.startswith("recirc-analog: warning:")]
    chosen = errors[-1] if errors else (lines[-1] if lines else "failed without a message")
    return chosen.removeprefix("recirc-analog: ")


# --- the sweep, in the driver --------------------------------------------------------------------


def point_folder(out, point: Point) -> Path:
    return Path(out) / "points" / point.key


def is_finished(folder: Path) -> bool:
    """A point is finished when its summary.json exists and its status.json says ok."""
    status = _read_json(folder / "status.json")
    return (folder / "summary.json").exists() and bool(status) and status.get("status") == "ok"


def _read_json(path: Path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def result_row(study: Study, point: Point, folder: Path) -> dict:
    """The results.csv row of one point from its folder (pending when it has not run)."""
    row = {"point": point.index, "hash": point.key}
    row.update(point.params)
    if "seed" not in point.params:
        row["seed"] = point.resolved.get("seed")
    status = _read_json(folder / "status.json") or {}
    summary = _read_json(folder / "summary.json") or {}
    ok = status.get("status") == "ok"
    for column in LOSS_COLUMNS[study.command]:
        row[column] = summary.get(column) if ok else None
    row["wall_seconds"] = status.get("wall_seconds")
    row["status"] = status.get("status", "pending")
    row["error"] = status.get("error") or ""
    return row


def result_columns(study: Study) -> list[str]:
    swept = list(study.swept)
    return ["point", "hash", *swept, *([] if "seed" in swept else ["seed"]),
            *LOSS_COLUMNS[study.command], "wall_seconds", "status", "error"]


def write_results(path: Path, columns, rows) -> None:
    """results.csv, atomically (empty cells for missing values)."""
    import csv

    with atomic_open(path, "w") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})


def start_client(workers: int | None = None, scheduler: str | None = None):
    """A Dask client: on an existing scheduler (used unchanged), or on a local cluster of
    ``workers`` single-thread worker processes (one per core by default) bound to 127.0.0.1
    without a dashboard. Returns ``(client, cluster)``; cluster is None for a scheduler."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise SetupError("sweep needs Dask distributed: pip install 'recirc-analog[sweep]'") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as error:
            raise RecircError(f"--scheduler {scheduler}: cannot connect ({' '.join(str(error).split())})") from None
    n = workers or os.cpu_count() or 1
    with dask.config.set({"distributed.worker.daemon": False, "distributed.admin.system-monitor.gil.enabled": False}):
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, env=dict(SINGLE_THREAD_ENV), silence_logs=50)
    return Client(cluster), cluster


def run_sweep(study: Study, out, entry, *, workers: int | None = None, scheduler: str | None = None, client=None,
              show_progress: bool = True, point_function=None) -> dict:
    """Run every unfinished point of ``study`` under ``out``; write results.csv and the plots.

    ``entry`` is the command line's ``main``, run in the workers for each point
    (see :func:`run_point`).
    ``client`` reuses a Dask client (tests); otherwise one is started per
    :func:`start_client`. ``point_function`` replaces :func:`run_point`
    (same signature; tests). Returns counts: points, skipped, ok, failed.
    """
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "study.json", {"command": study.command, "swept": list(study.swept),
                                           "points": [{"index": p.index, "hash": p.key, "params": p.params,
                                                       "argv": list(p.argv)} for p in study.points]})
    columns = result_columns(study)
    folders = [point_folder(out, p) for p in study.points]
    rows = [result_row(study, p, f) for p, f in zip(study.points, folders)]
    todo = [p for p, f in zip(study.points, folders) if not is_finished(f)]
    write_results(out / "results.csv", columns, rows)
    counts = {"points": len(study.points), "skipped": len(study.points) - len(todo), "ok": 0, "failed": 0}
    if todo:
        owned = client is None
        cluster = None
        if owned:
            client, cluster = start_client(workers, scheduler)
        try:
            _run_points(client, study, todo, folders, rows, columns, out, show_progress,
                        point_function or run_point, entry)
        finally:
            if owned:
                client.close()
                if cluster is not None:
                    cluster.close()
    counts["ok"] = sum(r["status"] == "ok" for r in rows) - counts["skipped"]
    counts["failed"] = sum(r["status"] == "failed" for r in rows)
    _plots(study, out, rows)
    return counts


def _run_points(client, study, todo, folders, rows, columns, out, show_progress, function, entry) -> None:
    from distributed import as_completed

    from .progress import progress_bar

    run = uuid.uuid4().hex[:8]  # a fresh key per run: the scheduler may still remember an earlier run's result
    futures = {}
    for point in todo:
        future = client.submit(function, study.command, list(point.argv), str(folders[point.index]), entry,
                               key=f"point-{point.key}-{run}", pure=False)
        futures[future] = point
    with progress_bar(len(todo), "sweep", enabled=show_progress, unit="point") as bar:
        for future in as_completed(futures):
            point = futures.pop(future)
            folder = folders[point.index]
            try:
                future.result()  # the status is in the folder; the result only says the task ended
            except Exception as error:  # the worker died (KilledWorker) or the task could not run
                if not is_finished(folder):  # (a worker may die after its point finished)
                    write_json_atomic(folder / "status.json", {
                        "status": "failed", "exit_code": None, "wall_seconds": None, "command": study.command,
                        "argv": list(point.argv), "error": " ".join(f"{type(error).__name__}: {error}".split())})
            future.release()  # forgotten by the scheduler: not recomputed if its worker dies later
            rows[point.index] = result_row(study, point, folder)
            write_results(out / "results.csv", columns, rows)
            bar.update(1)


def _plots(study: Study, out: Path, rows) -> list[Path]:
    """Loss against each swept parameter (spread over seeds) and heat maps of parameter pairs."""
    params = [p for p in study.swept if p != "seed"]
    loss = LOSS_COLUMNS[study.command][0]
    if not params or not any(r["status"] == "ok" for r in rows):
        return []
    try:
        from ..report import sweep_plots
    except ImportError:
        return []
    try:
        return sweep_plots.plot_sweep(out, rows, params, loss)
    except SetupError:
        return []  # matplotlib is not installed: the table is still written
