"""Atomic checkpoints of a co-simulation: enough to continue exactly where it stopped.

One ``checkpoint.npz`` holds the device state (conductances, stuck masks,
random streams), the lock-step reference weights, the position in the data
stream and a fingerprint of the configuration. It is written to a temporary
file and renamed, so a process killed mid-write leaves the previous
checkpoint intact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError, UsageError
from ..fileio import load_npz, save_npz_atomic

CHECKPOINT_NAME = "checkpoint.npz"


@dataclass(frozen=True)
class Checkpoint:
    """A co-simulation's resumable state."""

    batches_done: int
    """Minibatches completed (over all epochs)."""
    fingerprint: str
    """JSON of the configuration that produced it; resuming needs the same one."""
    device_state: dict
    """Arrays from :meth:`CrossbarState.get_state`."""
    reference_weights: list
    """A^1..A^L of the lock-step reference."""
    reference_biases: list
    """b^1..b^L of the lock-step reference."""


def save_checkpoint(folder: Path, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` atomically into ``folder``; returns its path."""
    arrays = {f"dev__{k}": v for k, v in checkpoint.device_state.items()}
    arrays.update({f"ref__A{h}": w for h, w in enumerate(checkpoint.reference_weights, start=1)})
    arrays.update({f"ref__b{h}": b for h, b in enumerate(checkpoint.reference_biases, start=1)})
    arrays["batches_done"] = np.array(checkpoint.batches_done)
    arrays["fingerprint"] = np.array(checkpoint.fingerprint)
    return save_npz_atomic(Path(folder) / CHECKPOINT_NAME, **arrays)


def load_checkpoint(folder: Path, fingerprint: str) -> Checkpoint:
    """Read the checkpoint in ``folder``; refuse one made by another configuration."""
    path = Path(folder) / CHECKPOINT_NAME
    try:
        arrays = load_npz(path, "checkpoint")
    except FileNotFoundError:
        raise UsageError(f"--resume: no checkpoint in {folder} (expected {path})") from None
    where = f"checkpoint {str(path)!r}"
    for key in ("fingerprint", "batches_done"):
        if key not in arrays or arrays[key].shape != ():
            raise DataError(f"{where} has no scalar {key!r}; it is not a co-simulation checkpoint "
                            "(--overwrite starts a new run)")
    saved = str(arrays["fingerprint"])
    if saved != fingerprint:
        differing = _differing_keys(saved, fingerprint)
        raise UsageError(f"--resume: the checkpoint in {folder} was made with different settings ({differing})")
    done = arrays["batches_done"]
    if done.dtype.kind not in "iu" or int(done) < 0:
        raise DataError(f"{where}: batches_done must be an integer >= 0, got {done!r}")
    n_layers = sum(1 for k in arrays if k.startswith("ref__A"))
    missing = [f"ref__{n}{h}" for h in range(1, n_layers + 1) for n in "Ab" if f"ref__{n}{h}" not in arrays]
    if n_layers == 0 or missing:
        raise DataError(f"{where} misses the reference arrays {', '.join(missing) or 'ref__A1, ref__b1'}")
    return Checkpoint(
        batches_done=int(done),
        fingerprint=saved,
        device_state={k[len("dev__"):]: v for k, v in arrays.items() if k.startswith("dev__")},
        reference_weights=[arrays[f"ref__A{h}"] for h in range(1, n_layers + 1)],
        reference_biases=[arrays[f"ref__b{h}"] for h in range(1, n_layers + 1)],
    )


def _differing_keys(a: str, b: str) -> str:
    try:
        old, new = json.loads(a), json.loads(b)
    except ValueError:
        return "unreadable fingerprint"
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys[:4]) or "unknown"
