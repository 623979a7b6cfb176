"""``recirc-analog sweep``: studies checked before anything runs, points on Dask workers, resume, failures.

Every point trains a 16-4-16 net on Lowrank for one epoch (about a second).
One two-worker local cluster is shared by the module; the 1-vs-2-worker
comparison starts its own one-worker cluster through the command line.
"""

import csv
import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

import cloudpickle  # noqa: E402  (comes with distributed)
import dask  # noqa: E402

from recirc_analog.cli import main  # noqa: E402
from recirc_analog.commands.sweep import check_point, command_parser  # noqa: E402
from recirc_analog.errors import ConfigError  # noqa: E402
from recirc_analog.jobs import sweep as job  # noqa: E402

# The point functions below run in the workers, which cannot import this test module by name.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

BASE = {"sizes": "16,4,16", "act": "tanh,linear", "epochs": 1, "max-train": 200, "batch-size": 20}


def build_study(text):
    return job.build_study(text, command_parser, check_point)


def load_study(path):
    return job.load_study(path, command_parser, check_point)


def run_sweep(study, out, **options):
    return job.run_sweep(study, out, main, **options)


def run_point(command, argv, folder, entry=main):
    return job.run_point(command, argv, folder, entry)


def study_text(grid, base=None, zipped=None, command="train"):
    text = {"command": command, "base": dict(BASE, **(base or {})), "grid": grid}
    if zipped:
        text["zip"] = zipped
    return text


def write_toml(path, text):
    def value(v):
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, bool):
            return str(v).lower()
        return f'"{v}"' if isinstance(v, str) else repr(v)

    lines = [f'command = "{text["command"]}"']
    for table in ("base", "grid", "zip"):
        if table in text:
            lines.append(f"[{table}]")
            lines += [f"{k} = {value(v)}" for k, v in text[table].items()]
    Path(path).write_text("\n".join(lines) + "\n")
    return path


def read_rows(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    # One retry per point whose worker dies, so the always-killing point below fails quickly.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None, silence_logs=50)
    with Client(cluster) as c:
        yield c
    cluster.close()


# --- checked before anything runs ---------------------------------------------------------------


def test_a_study_expands_grid_and_zip_in_order():
    study = build_study(study_text({"rule": ["bp", "rec"], "seed": [0, 1]},
                                   zipped={"lr": [0.01, 0.02], "lr_decay": [1.0, 0.5]}))
    assert study.swept == ("rule", "seed", "lr", "lr_decay")
    assert len(study.points) == 8
    assert study.points[0].params == {"rule": "bp", "seed": 0, "lr": 0.01, "lr_decay": 1.0}
    assert study.points[1].params == {"rule": "bp", "seed": 0, "lr": 0.02, "lr_decay": 0.5}
    assert study.points[-1].params == {"rule": "rec", "seed": 1, "lr": 0.02, "lr_decay": 0.5}
    assert len({p.key for p in study.points}) == 8


def test_the_hash_follows_the_resolved_arguments_not_their_spelling():
    a = build_study(study_text({"seed": [0]}, base={"lr": 0.001})).points[0]
    b = build_study(study_text({"seed": [0]})).points[0]  # 0.001 is the default
    c = build_study(study_text({"seed": [0]}, base={"lr": 0.002})).points[0]
    assert a.key == b.key != c.key
    assert len(a.key) == 12


@pytest.mark.parametrize("grid, base, message", [
    ({"lrr": [0.1]}, {}, "grid.lrr: train has no option --lrr"),
    ({"seed": [0]}, {"epoch": 2}, "base.epoch: train has no option --epoch"),
    ({"lr": [0.01, -1.0]}, {}, "point 1 (lr=-1.0): --lr must be a finite number > 0"),
    ({"rule": ["rec", "backprop"]}, {}, "point 1 (rule=backprop): argument --rule: invalid choice"),
    ({"seed": [0]}, {"act": "tanh"}, None),  # one activation applies to all layers: fine
    ({"seed": [0]}, {"act": "tanh,tanh,tanh"}, "point 0 (seed=0): --act needs 2 activations"),
    ({"seed": [0]}, {"out": "x"}, "base.out: the sweep sets --out itself"),
    ({"resume": [True]}, {}, "grid.resume: the sweep sets --resume itself"),
    ({"seed": [0, 0]}, {}, "point 1 (seed=0) resolves to the same arguments as point 0"),
    ({"seed": 0}, {}, "grid.seed must be a non-empty list"),
    ({"seed": [0]}, {"epochs": [1, 2]}, "base.epochs must be a single value"),
    ({"seed": [0]}, {"act": "-tanh"}, "point 0 (seed=0): --act: unknown activation '-tanh'"),
    ({"seed": list(range(1000)), "lr": [0.1 * (k + 1) for k in range(101)]}, {}, "101000 points, at most 100000"),
])
def test_bad_studies_fail_naming_the_key_or_point(grid, base, message):
    text = study_text(grid, base=base)
    if message is None:
        build_study(text)
        return
    with pytest.raises(ConfigError) as error:
        build_study(text)
    assert message in str(error.value)


def test_zip_lists_of_unequal_length_and_unknown_commands_are_refused():
    with pytest.raises(ConfigError, match="equal lengths"):
        build_study(study_text({"seed": [0]}, zipped={"lr": [0.1, 0.2], "rule": ["bp"]}))
    with pytest.raises(ConfigError, match="command must be one of train, cosim"):
        build_study(dict(study_text({"seed": [0]}), command="netlist"))
    with pytest.raises(ConfigError, match="unknown entry 'grids'"):
        build_study(dict(study_text({"seed": [0]}), grids={}))


def test_cosim_studies_use_the_cosim_parser():
    study = build_study(study_text({"form": ["dc", "tran"]}, command="cosim", base={"batches": 1}))
    assert [p.params for p in study.points] == [{"form": "dc"}, {"form": "tran"}]
    with pytest.raises(ConfigError, match="point 0 .*--g-min"):
        build_study(study_text({"g_min": [-1.0]}, command="cosim"))


def test_the_command_line_refuses_a_bad_study_in_one_line_before_running(tmp_path, capsys):
    path = write_toml(tmp_path / "s.toml", study_text({"rulle": ["bp"]}))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "grid.rulle: train has no option --rulle" in err
    assert not (tmp_path / "out").exists()
    (tmp_path / "bad.toml").write_text("command = \n")
    assert main(["sweep", str(tmp_path / "bad.toml"), "--out", str(tmp_path / "out")]) == 2
    assert "not valid TOML" in capsys.readouterr().err


# --- running ------------------------------------------------------------------------------------


def test_one_point_runs_in_process_and_records_its_status(tmp_path):
    study = build_study(study_text({"seed": [3]}))
    status = run_point("train", study.points[0].argv, str(tmp_path / "p"))
    assert status["status"] == "ok" and status["exit_code"] == 0 and status["error"] is None
    assert (tmp_path / "p" / "summary.json").exists() and (tmp_path / "p" / "status.json").exists()


def test_two_workers_give_the_results_table_of_one(tmp_path, client):
    text = study_text({"rule": ["bp", "rec"], "seed": [0, 1]})
    two = run_sweep(build_study(text), tmp_path / "two", client=client, show_progress=False)
    assert two == {"points": 4, "skipped": 0, "ok": 4, "failed": 0}
    path = write_toml(tmp_path / "s.toml", text)
    assert main(["sweep", str(path), "--out", str(tmp_path / "one"), "--workers", "1", "--quiet"]) == 0
    one_rows, two_rows = read_rows(tmp_path / "one" / "results.csv"), read_rows(tmp_path / "two" / "results.csv")
    for row in one_rows + two_rows:
        assert float(row.pop("wall_seconds")) > 0
    assert one_rows == two_rows
    assert [r["rule"] for r in one_rows] == ["bp", "bp", "rec", "rec"]
    assert all(r["status"] == "ok" and float(r["final_test_loss"]) > 0 for r in one_rows)
    assert (tmp_path / "one" / "loss_vs_rule.png").exists()
    assert not (tmp_path / "one" / "heatmap_rule_seed.png").exists()  # seeds give the spread, not an axis


def test_a_rerun_skips_finished_points_and_runs_new_ones(tmp_path, client):
    out = tmp_path / "out"
    study = build_study(study_text({"lr": [0.01, 0.02], "seed": [0, 1]}))
    assert run_sweep(study, out, client=client, show_progress=False)["ok"] == 4
    summaries = sorted((out / "points").glob("*/summary.json"))
    stamps = [p.stat().st_mtime_ns for p in summaries]
    assert run_sweep(study, out, client=client, show_progress=False) == {"points": 4, "skipped": 4, "ok": 0,
                                                                         "failed": 0}
    assert [p.stat().st_mtime_ns for p in summaries] == stamps
    wider = build_study(study_text({"lr": [0.01, 0.02, 0.03], "seed": [0, 1]}))
    assert run_sweep(wider, out, client=client, show_progress=False) == {"points": 6, "skipped": 4, "ok": 2,
                                                                          "failed": 0}
    assert [p.stat().st_mtime_ns for p in summaries] == stamps
    assert len(read_rows(out / "results.csv")) == 6
    assert (out / "loss_vs_lr.png").exists()


def test_a_failing_point_is_recorded_and_the_others_finish(tmp_path, client):
    out = tmp_path / "out"
    study = build_study(study_text({"data": ["lowrank", "mnist"], "seed": [0, 1]},
                                   base={"data-dir": str(tmp_path / "no-such-folder")}))
    counts = run_sweep(study, out, client=client, show_progress=False)
    assert counts == {"points": 4, "skipped": 0, "ok": 2, "failed": 2}
    rows = read_rows(out / "results.csv")
    assert [r["status"] for r in rows] == ["ok", "ok", "failed", "failed"]
    for row in rows[2:]:
        assert row["final_test_loss"] == "" and "no-such-folder" in row["error"] and "\n" not in row["error"]
    # Failed points run again on a rerun; finished ones do not.
    assert run_sweep(study, out, client=client, show_progress=False)["skipped"] == 2


def kill_once(command, argv, folder, entry):
    """Kill this worker process the first time the point with seed 1 runs, as a crash would."""
    marker = Path(folder).with_name(Path(folder).name + ".killed")
    if "--seed=1" in argv and not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        os._exit(1)
    return job.run_point(command, argv, folder, entry)


def kill_always(command, argv, folder, entry):
    """A point that kills its worker every time it runs."""
    if "--seed=1" in argv:
        os._exit(1)
    return job.run_point(command, argv, folder, entry)


def test_a_killed_worker_loses_no_finished_point(tmp_path, client):
    out = tmp_path / "out"
    study = build_study(study_text({"seed": [0, 1, 2]}))
    counts = run_sweep(study, out, client=client, show_progress=False, point_function=kill_once)
    assert counts == {"points": 3, "skipped": 0, "ok": 3, "failed": 0}
    assert len(list((out / "points").glob("*.killed"))) == 1  # the worker did die once


def test_a_point_that_always_kills_its_worker_is_recorded_failed(tmp_path, client):
    out = tmp_path / "out"
    study = build_study(study_text({"seed": [0, 1, 2]}))
    counts = run_sweep(study, out, client=client, show_progress=False, point_function=kill_always)
    assert counts == {"points": 3, "skipped": 0, "ok": 2, "failed": 1}
    rows = read_rows(out / "results.csv")
    assert [r["status"] for r in rows] == ["ok", "failed", "ok"]
    assert "KilledWorker" in rows[1]["error"]
    # The finished points stay finished: a rerun (with the ordinary point function) runs only the killed one.
    assert run_sweep(study, out, client=client, show_progress=False) == {"points": 3, "skipped": 2, "ok": 1,
                                                                         "failed": 0}


def test_load_study_reads_toml(tmp_path):
    path = write_toml(tmp_path / "s.toml", study_text({"rule": ["bp", "top"]}))
    assert [p.params["rule"] for p in load_study(path).points] == ["bp", "top"]


def test_without_dask_the_sweep_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    path = write_toml(tmp_path / "s.toml", study_text({"seed": [0]}))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'recirc-analog[sweep]'" in err


def test_an_existing_scheduler_is_used(tmp_path, client):
    study = build_study(study_text({"rule": ["bp", "top"]}))
    counts = run_sweep(study, tmp_path / "out", scheduler=client.scheduler.address, show_progress=False)
    assert counts == {"points": 2, "skipped": 0, "ok": 2, "failed": 0}
    # left as it was: still two workers. A worker killed by an earlier test of this module is
    # restarted by its nanny, which can take seconds on a loaded machine, so wait for it; a
    # closed cluster or client fails here.
    client.wait_for_workers(2, timeout=120)
    assert len(client.scheduler_info()["workers"]) == 2


def test_study_text_reads_back_as_the_same_study():
    """Oracle: tomllib, the reader `recirc-analog sweep` uses."""
    import tomllib

    from recirc_analog.jobs.sweep import study_text as written

    study = {"command": "train", "base": {"sizes": "784,20,784", "epochs": 3, "lr": 0.05, "quiet": True,
                                          "data-dir": 'C:\\data "raw"'},
             "grid": {"rule": ["bp", "rec"], "seed": [0, 1], "device": ["ideal", "a/b.json"]},
             "zip": {"lr": [0.01, 0.02]}}
    assert tomllib.loads(written(study)) == study
