"""Device tolerance (issue 11): write the devices, run the study grid, write REPORT.md and the plots.

One command, from the repository root:

    .venv/bin/python studies/device-tolerance/run.py [--max-train N] [--workers 2] [--out DIR]

writes ``devices/*.json`` from ``axes.py``, checks that ``study.toml`` names exactly those
files, writes the resolved study (absolute device paths, the data folder, ``--max-train``)
to ``DIR/study.toml`` and runs it through the real ``recirc-analog sweep`` command
(resumable: a rerun skips finished points); then the same for the circuit-level points of
``cosim.toml`` into ``DIR-cosim``; then ``report.py`` writes ``REPORT.md``,
``tolerance.png`` and ``results/*.csv`` next to this file from the two sweep folders.
``--report-only`` redraws the report from existing sweep folders.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from recirc_analog.jobs.sweep import study_text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def write_study(out: Path, data_dir: str, max_train: int | None, name: str = "study.toml") -> Path:
    """The study the sweep runs: ``name`` (study.toml or cosim.toml) with absolute device paths,
    the data folder and --max-train (study.toml only; cosim.toml fixes its own)."""
    from axes import device_files, write_devices

    write_devices(HERE)
    with open(HERE / name, "rb") as handle:
        study = tomllib.load(handle)
    listed = [d for d in study["grid"]["device"] if d.endswith(".json")]
    if name == "study.toml" and sorted(listed) != sorted(device_files()):
        raise SystemExit("study.toml's device list differs from axes.py's devices: "
                         f"{sorted(set(listed) ^ set(device_files()))}")
    missing = sorted(set(listed) - set(device_files()))
    if missing:
        raise SystemExit(f"{name} names devices axes.py does not write: {missing}")
    study["grid"]["device"] = [d if not d.endswith(".json") else str(HERE / d) for d in study["grid"]["device"]]
    study["base"]["data-dir"] = data_dir
    if max_train is not None and name == "study.toml":
        study["base"]["max-train"] = max_train
    path = out / name
    path.write_text(study_text(study))
    return path


def sweep(study: Path, out: Path, workers: int) -> None:
    """``recirc-analog sweep STUDY --out OUT`` from the repository root, one BLAS thread per worker."""
    cli = Path(sys.executable).with_name("recirc-analog")
    command = [str(cli), "sweep", str(study), "--out", str(out), "--workers", str(workers), "--quiet"]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=ROOT)
    print(f"sweep {study.name} finished in {time.perf_counter() - start:.0f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "sweep"),
                        help="sweep folder (its results.csv, points/; not committed; default sweep/ here)")
    parser.add_argument("--max-train", type=int, default=None, metavar="N",
                        help="first N training samples per point (default: the whole epoch, 60,000)")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (default 2)")
    default_data = os.environ.get("RECIRC_ANALOG_DATA", str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--data-dir", default=default_data,
                        help="folder holding mnist/ (default: $RECIRC_ANALOG_DATA or ../shared/data)")
    parser.add_argument("--cosim-out", default=None, metavar="DIR",
                        help="sweep folder of the circuit-level points, cosim.toml (default: OUT-cosim)")
    parser.add_argument("--only", choices=("study", "cosim"), default=None,
                        help="run one of the two sweeps (default both, study.toml first)")
    parser.add_argument("--report-only", action="store_true", help="only write REPORT.md and tolerance.png")
    args = parser.parse_args(argv)
    out = Path(args.out)
    cosim_out = Path(args.cosim_out) if args.cosim_out else out.with_name(out.name + "-cosim")
    if not args.report_only:
        for name, folder in (("study.toml", out), ("cosim.toml", cosim_out)):
            if args.only is None or name == f"{args.only}.toml":
                folder.mkdir(parents=True, exist_ok=True)
                sweep(write_study(folder, args.data_dir, args.max_train, name), folder, args.workers)
    from report import write_report
    write_report(out, cosim_out, HERE, max_train=args.max_train)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main())
