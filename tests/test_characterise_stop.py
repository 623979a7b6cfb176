"""A stopped ``characterise`` leaves no ngspice running: SIGTERM (exit 143) and Ctrl-C (SIGINT,
exit 130) sent to the job's process end its ngspice children too (checked by their pids)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recirc_analog.errors import Terminated
from recirc_analog.jobs.characterise import ChildProcesses


def _children(pid: int) -> list[int]:
    """Pids of the live (not zombie) processes whose parent is ``pid``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()          # state, ppid, ...
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_stopping_characterise_ends_its_ngspice_children(tmp_path, signum, status):
    command = [sys.executable, "-m", "recirc_analog.cli", "characterise", "--cells", "sample_hold,neuron",
               "--corners", "tt", "--temps", "27", "--out", str(tmp_path / "DATASHEET.md"), "--quiet",
               "--workers", "2"]
    job = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        spawned = []
        while time.monotonic() < deadline and job.poll() is None:
            spawned = [pid for pid in _children(job.pid) if "ngspice" in Path(f"/proc/{pid}/cmdline").read_text()]
            if spawned:
                break
            time.sleep(0.05)
        assert spawned, "the job started no ngspice process"
        job.send_signal(signum)
        _, err = job.communicate(timeout=60)
    finally:
        if job.poll() is None:
            job.kill()
            job.wait()
    assert job.returncode == status, err[-500:]
    assert len(err.strip().splitlines()) == 1, err
    assert not [pid for pid in spawned if _alive(pid)]
    assert not (tmp_path / "DATASHEET.md").exists()


def test_child_processes_refuse_to_start_after_stop(tmp_path):
    children = ChildProcesses()
    process = children.start(["sleep", "30"], tmp_path)
    assert children.pids() == [process.pid]
    children.stop()
    assert process.returncode is not None and not _alive(process.pid)
    with pytest.raises(Terminated, match="no new ngspice run starts"):
        children.start(["sleep", "30"], tmp_path)
    assert os.getpid() not in children.pids()
