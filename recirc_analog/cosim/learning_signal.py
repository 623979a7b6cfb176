"""The learning signal (held minus live) of a co-simulated minibatch against the circuit's noise.

With ``--noise`` the metrics of every minibatch carry, per layer h = 0..L,
``signal_rms_L<h>``: the root mean square over samples and neurons of
``O^h(n) - O^h(m)`` as the circuit read it (the difference the local rule
multiplies), and ``noise_rms_L<h>``: the closed-form standard deviation of the
noise in one such reading (:func:`recirc_analog.schematic.noise.noise_floor`).
Their ratio is the learning signal's signal-to-noise ratio; it falls as the
network learns (the signal shrinks, the noise does not).
"""

import numpy as np

from recirc_analog.schematic.noise import noise_floor
from recirc_analog.schematic.voltage_budget import plan


def signal_columns(n_layers: int) -> list[str]:
    """The metrics columns this module fills, layers 0..L."""
    return [f"{name}_L{h}" for h in range(n_layers + 1) for name in ("signal_rms", "noise_rms")]


def noise_row(controller, x: np.ndarray) -> dict:
    """``noise_rms_L<h>`` of the minibatch ``x`` (batch, N0) on the devices ``controller`` (a
    CosimController) holds now, i.e. before its update."""
    spec = controller.spec
    scales = plan(controller.network(), x, spec).scales
    conductances = controller.state.all_conductances()
    periphery = None
    if spec.neuron.kind == "sky130":  # the transistor cells' own noise (.noise in ngspice)
        from .periphery_noise import periphery_noise

        periphery = periphery_noise(spec, conductances, spec.crossbar.r_f, scales, controller.network().activations)
    floor = noise_floor(spec, conductances, spec.crossbar.r_f, scales, periphery)
    return {f"noise_rms_L{h}": float(value) for h, value in enumerate(floor)}


def signal_row(readings) -> dict:
    """``signal_rms_L<h>`` of one minibatch's readings."""
    return {f"signal_rms_L{h}": float(np.sqrt(np.mean((early - late) ** 2)))
            for h, (early, late) in enumerate(zip(readings.early, readings.late))}
