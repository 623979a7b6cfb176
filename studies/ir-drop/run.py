"""IR drop vs tile size (issue 10): run the study grid and write REPORT.md and ir_drop.png.

One command, from the repository root:

    .venv/bin/python studies/ir-drop/run.py [--max-train N] [--workers 2] --out studies/ir-drop/results

runs ``study.toml`` (REC-PR on MNIST 784-20-784, tanh/logistic, direct engine, one epoch per
point, r-wire x tile) through the real ``recirc-analog sweep`` command (resumable: a rerun
skips finished points), then writes ``REPORT.md`` and ``ir_drop.png`` next to this file from
``results.csv``. ``--report-only`` redraws the report from an existing ``results.csv``.
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


def write_study(out: Path, data_dir: str, max_train: int | None) -> Path:
    """study.toml with the data folder (and --max-train) added: the study the sweep runs."""
    with open(HERE / "study.toml", "rb") as handle:
        study = tomllib.load(handle)
    study["base"]["data-dir"] = data_dir
    if max_train is not None:
        study["base"]["max-train"] = max_train
    path = out / "study.toml"
    path.write_text(study_text(study))
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "results"), help="sweep folder (results.csv, points/)")
    parser.add_argument("--max-train", type=int, default=None, metavar="N",
                        help="first N training samples per point (default: the whole epoch, 60,000)")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (default 2)")
    default_data = os.environ.get("RECIRC_ANALOG_DATA", str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--data-dir", default=default_data,
                        help="folder holding mnist/ (default: $RECIRC_ANALOG_DATA or ../shared/data)")
    parser.add_argument("--report-only", action="store_true", help="only write REPORT.md and ir_drop.png")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        study = write_study(out, args.data_dir, args.max_train)
        cli = Path(sys.executable).with_name("recirc-analog")
        command = [str(cli), "sweep", str(study), "--out", str(out), "--workers", str(args.workers), "--quiet"]
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        start = time.perf_counter()
        subprocess.run(command, check=True, env=env)
        print(f"sweep finished in {time.perf_counter() - start:.0f} s")
    from report import write_report
    write_report(out / "results.csv", HERE / "REPORT.md", HERE / "ir_drop.png", max_train=args.max_train)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main())
