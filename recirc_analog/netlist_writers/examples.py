"""The example netlists of the checkout's ``netlists/``: ``make netlists`` regenerates them
(``python -m recirc_analog.netlist_writers.examples netlists``). A test compares the committed
files with :func:`get_example_texts`. Nothing here knows where a checkout is: the folder is an argument.

Every example uses a Glorot-initialised network with seed 0 (tied, A^2 := (A^1)^T,
for the bidirectional architecture) and a batch of inputs drawn uniformly from
[0, 1) with ``numpy.random.default_rng(1)``.
"""

import sys
from pathlib import Path

import numpy as np

from recirc_analog.netlist_writers.api import generate_netlist
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.reference.tied import tie_weights
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig, NeuronConfig

EXAMPLES = {
    "pr_8-4-8_dc": ((8, 4, 8), ("tanh", "tanh"), 3, CircuitSpec(title="PR 8-4-8 dc form")),
    "pr_8-4-8_tran": ((8, 4, 8), ("tanh", "tanh"), 3, CircuitSpec(form="tran", title="PR 8-4-8 tran form")),
    "ccrcc_8-4-8_tran_shared": ((8, 4, 8), ("tanh", "logistic"), 2, CircuitSpec(
        recirculation=Recirculation("ccrcc", 0.5), form="tran", crossbar=CrossbarConfig(mapping="shared_reference"),
        title="CCRCC lam 0.5 8-4-8 tran form, shared reference column")),
    "error_8-4-8_dc_opamp": ((8, 4, 8), ("tanh", "linear"), 2, CircuitSpec(
        recirculation=Recirculation("error"), neuron=NeuronConfig(kind="opamp"),
        title="error recirculation 8-4-8 dc form, op-amp neurons")),
    "rwcc_64-16-64_dc": ((64, 16, 64), ("tanh", "tanh"), 4, CircuitSpec(
        recirculation=Recirculation("rwcc", 0.5), title="RWCC lam 0.5 64-16-64 dc form")),
    "bidirectional_pr_8-4-8_dc": ((8, 4, 8), ("tanh", "tanh"), 3, CircuitSpec(
        architecture="bidirectional", title="PR 8-4-8 dc form, bidirectional: one crossbar read both ways")),
}
"""name -> (sizes, activations, batch, spec)."""


def get_example_texts() -> dict[str, str]:
    """File name -> netlist text of every example."""
    texts = {}
    for name, (sizes, activations, batch, spec) in EXAMPLES.items():
        net = CircularAutoencoder.random(sizes, activations, seed=0)
        if spec.architecture == "bidirectional":
            net = tie_weights(net)
        x = np.random.default_rng(1).uniform(0, 1, size=(batch, sizes[0]))
        texts[f"{name}.cir"] = generate_netlist(net, spec, x)
    return texts


def main(argv=None) -> int:
    """Write every example into the directory given as the only argument; exit code 2 without one."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m recirc_analog.netlist_writers.examples DIRECTORY  (make netlists: netlists)",
              file=sys.stderr)
        return 2
    directory = Path(args[0])
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in get_example_texts().items():
        (directory / name).write_text(text)
        print(f"wrote {directory / name} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
