"""The learning signal (held minus live) of a co-simulated minibatch against the circuit's noise floor
and the column stages' headroom.

The metrics of every minibatch carry, per layer h = 0..L,
``signal_rms_L<h>``: the root mean square over samples and neurons of
``O^h(n) - O^h(m)`` as the circuit read it (the difference the local rule
multiplies), and ``noise_rms_L<h>``: the **closed-form noise floor** of one such
reading (:func:`recirc_analog.schematic.noise.noise_floor`: kT/C of the holds and
4kTG of the crossbar devices through the transimpedance gain; with
``--periphery sky130`` also the transistor cells' own noise, from ngspice
``.noise`` analyses of each layer's chain: :mod:`.periphery_noise`, a few small
ngspice runs per minibatch whose columns' conductances moved), both in activity units.
The floor is computed whether or not noise sources are injected: in the dc form
(and without ``--noise``) the circuit itself is noiseless and the floor says what
the physical circuit's noise would be against the signal it read; with ``--noise``
(tran form) the same floor describes the injected sources. Their ratio is the
learning signal's signal-to-noise ratio; it falls as the network learns (the
signal shrinks, the floor does not).

Also per layer h = 1..L, ``stage_peak_V_L<h>``: the largest |output| (V) of the
layer's column stages (``-r_f' * I_column``) over the minibatch's reads, in closed
form on the devices before the update (:func:`~recirc_analog.schematic.voltage_budget.stage_peaks`,
the prediction the voltage budget checks against an op-amp's swing).
"""

import numpy as np

from recirc_analog.schematic.builder import circuit_budget
from recirc_analog.schematic.noise import noise_floor
from recirc_analog.schematic.voltage_budget import stage_peaks


def signal_columns(n_layers: int) -> list[str]:
    """The metrics columns this module fills: signal and floor of layers 0..L, stage peaks of 1..L."""
    return ([f"{name}_L{h}" for h in range(n_layers + 1) for name in ("signal_rms", "noise_rms")]
            + [f"stage_peak_V_L{h}" for h in range(1, n_layers + 1)])


def noise_row(controller, x: np.ndarray) -> dict:
    """``noise_rms_L<h>`` (closed-form floor, activity units) and ``stage_peak_V_L<h>`` (V) of the
    minibatch ``x`` (batch, N0) that ``controller`` (a CosimController) has just simulated: on the
    conductances that reading used (before the update; no new device read, so no read noise is drawn)
    and the voltage plan its circuit was built with (planned anew only when the batch was split into
    several circuits)."""
    spec = controller.spec
    if controller.last_reading is None:
        raise ValueError("noise_row needs a simulated batch: call it after controller.step")
    conductances, budget = controller.last_reading
    r_f = spec.crossbar.r_f
    if budget is None:
        budget = circuit_budget(controller.network(), spec, x, conductances, r_f)
    periphery = None
    if spec.neuron.kind == "sky130":  # the transistor cells' own noise (.noise in ngspice)
        from .periphery_noise import periphery_noise

        periphery = periphery_noise(spec, conductances, r_f, budget.scales, controller.network().activations)
    floor = noise_floor(spec, conductances, r_f, budget.scales, periphery)
    row = {f"noise_rms_L{h}": float(value) for h, value in enumerate(floor)}
    if budget.inputs:
        peaks = stage_peaks(budget, conductances, r_f)
        row.update({f"stage_peak_V_L{h}": float(value) for h, (value, *_) in peaks.items()})
    return row


def signal_row(readings) -> dict:
    """``signal_rms_L<h>`` of one minibatch's readings."""
    return {f"signal_rms_L{h}": float(np.sqrt(np.mean((early - late) ** 2)))
            for h, (early, late) in enumerate(zip(readings.early, readings.late))}
