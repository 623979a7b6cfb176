"""Why REC diverges in the linear 100-20-100 panels (docs/LINEAR_DYNAMICS.md): the measurements.

From the repository root (single-threaded BLAS is faster on a shared machine):

    OMP_NUM_THREADS=1 .venv/bin/python studies/rec-divergence/run.py images --lr 0.001 0.0005 0.00025
    OMP_NUM_THREADS=1 .venv/bin/python studies/rec-divergence/run.py lowrank --rank 20 30

``images``: REC on the linear 784-100-20-100-784 network (MNIST or Fashion, weight cap 2.0, batch
100, Glorot start and output bias = training mean as in ``reproduce``), one line per rate: the
test loss on the first 2,000 test images and ||A^1||_2 every epoch, and the minibatch at which
training diverged. ``lowrank``: the same rule on Lowrank data of the given ranks (d = 100) with
one hidden layer of 20 or 100-20-100, beside BP. Everything is fixed by ``--seed``; nothing is
written but the printed lines.
"""

from __future__ import annotations

import argparse

import numpy as np

from recirc_analog.data.datasets import load_dataset
from recirc_analog.data.lowrank import LowrankDataset
from recirc_analog.errors import DivergenceError
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.rules import get_rule
from recirc_analog.reference.training import TrainConfig, Trainer


def trace(dataset, hidden, rule: str, lr: float, max_norm, epochs: int, every: int, seed: int, test) -> str:
    """Train ``rule`` from the seed's start; "loss/||A^1||_2" every ``every`` minibatches, then the end."""
    sizes = (dataset.dim, *hidden, dataset.dim)
    net = CircularAutoencoder.random(sizes, ("linear",) * (len(sizes) - 1), seed=seed, data_mean=dataset.train_mean)
    params = {"seed": seed} if rule in ("rbp", "srbp") else {}
    trainer = Trainer(net, get_rule(rule, **params),
                      TrainConfig(epochs=1, lr=lr, max_norm=max_norm, seed=seed, track_angles=False))
    row = [f"{trainer.evaluate(test):.4g}"]
    rng = np.random.default_rng(seed)
    step = 0
    for _ in range(epochs):
        for x in dataset.train_batches(100, rng):
            step += 1
            try:
                trainer.step(x)
            except DivergenceError:
                return " ".join(row + [f"DIVERGED at minibatch {step}"])
            if step % every == 0:
                row.append(f"{trainer.evaluate(test):.4g}/{np.linalg.norm(net.weights[0], 2):.2g}")
    return " ".join(row)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    images = sub.add_parser("images", help="REC on linear 784-100-20-100-784 at several rates")
    images.add_argument("--data", default="mnist", choices=("mnist", "fashion"), help="image set (default mnist)")
    images.add_argument("--data-dir", default=None, help="folder of mnist/ and fashion/ (default $RECIRC_ANALOG_DATA)")
    images.add_argument("--lr", type=float, nargs="+", default=[1e-3], help="learning rates (default 0.001)")
    images.add_argument("--rule", default="rec", help="learning rule (default rec)")
    images.add_argument("--epochs", type=int, default=20, help="epochs of 60,000 images (default 20)")
    lowrank = sub.add_parser("lowrank", help="REC and BP on Lowrank data of several ranks")
    lowrank.add_argument("--rank", type=int, nargs="+", default=[20, 30], help="data ranks (default 20 30)")
    lowrank.add_argument("--minibatches", type=int, default=12000, help="minibatches per run (default 12000)")
    for sub_parser in (images, lowrank):
        sub_parser.add_argument("--seed", type=int, default=0, help="seed of weights, batches and data (default 0)")
        sub_parser.add_argument("--no-cap", action="store_true", help="no weight cap (the paper's is 2.0)")
    args = parser.parse_args()
    cap = None if args.no_cap else 2.0
    if args.what == "images":
        data = load_dataset(args.data, args.data_dir, seed=args.seed)
        for lr in args.lr:
            line = trace(data, (100, 20, 100), args.rule, lr, cap, args.epochs, 600, args.seed, data.test[:2000])
            print(f"{args.data} 784-100-20-100-784 {args.rule} lr {lr:g}: {line}", flush=True)
        return 0
    for rank in args.rank:
        data = LowrankDataset(100, rank, seed=args.seed, n_train=100 * args.minibatches, n_test=1000)
        for hidden, lr in (((20,), 1e-3), ((100, 20, 100), 1e-4)):
            for rule in ("bp", "rec"):
                line = trace(data, hidden, rule, lr, cap, 1, 2000, args.seed, data.test)
                print(f"lowrank rank {rank} {'-'.join(map(str, hidden))} {rule} lr {lr:g}: {line}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
