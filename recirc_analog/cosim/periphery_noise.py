"""The sky130 periphery's own noise for the learning-signal floor (``--periphery sky130``).

For each layer h the live reading's chain (two ``sky130_tia`` at the layer's feedback
resistance ``r_f * scale_h / scale_{h-1}``, their columns loaded by the crossbar conductance of
the layer's noisiest neuron, then the activation stage) and the hold's buffer run as ngspice
``.noise`` analyses (``recirc_analog.pdk.testbenches.live_chain_netlist`` /
``held_chain_netlist``), at the run's corner and die temperature; ngspice's integrated output
noise over ``[NOISE_F_LOW, NOISE_F_HIGH]`` is the :class:`~recirc_analog.schematic.noise.PeripheryNoise`
that :func:`recirc_analog.schematic.noise.noise_floor` adds as its ``periphery`` part.

The conductances are rounded to three significant digits and the results cached in the process,
so a training run re-simulates only when its columns' conductances move by about 0.1 % or more
(each analysis is one small ngspice run, about 1-2 s).
"""

from __future__ import annotations

import functools

import numpy as np

from ..engines.batch import BatchEngine
from ..pdk.noise import NOISE_F_HIGH, NOISE_F_LOW
from ..pdk.testbenches import held_chain_netlist, live_chain_netlist
from ..schematic.noise import PeripheryNoise
from ..schematic.voltage_budget import tia_gain_factor


def _three_digits(x: float) -> float:
    return float(f"{x:.3g}")


@functools.lru_cache(maxsize=512)
def _integrated(text: str) -> float:
    """ngspice's integrated output noise (V rms) of a netlist whose only analysis is ``.noise``."""
    with BatchEngine() as engine:
        result = engine.run(text, label="sky130 periphery noise")
    return float(np.real(result.vectors["v(onoise_total)"][0]))


def _worst_columns(g) -> tuple[float, float]:
    """(plus, minus) total column conductance (S) of the neuron whose two columns hold the most."""
    other = g.minus.sum(axis=1) if g.minus is not None else np.full(g.plus.shape[0], g.reference.sum())
    k = int(np.argmax(g.plus.sum(axis=1) + other))
    return float(g.plus[k].sum()), float(other[k])


def periphery_noise(spec, conductances, r_f: float, scales, activations) -> PeripheryNoise:
    """The :class:`PeripheryNoise` of a sky130 run: ``spec`` a CircuitSpec (its ``corner`` and
    ``temp``), ``conductances`` layer h's Conductances (S) at index h - 1, ``r_f`` (ohm),
    ``scales`` volts per unit activity of layers 0..L, ``activations`` layers 1..L (tanh or linear)."""
    live = []
    for h, (g, activation) in enumerate(zip(conductances, activations), start=1):
        g_plus, g_minus = _worst_columns(g)
        rf = _three_digits(r_f * tia_gain_factor(scales, h))
        live.append(_integrated(live_chain_netlist(spec.corner, float(spec.temp), rf, _three_digits(g_plus),
                                                   _three_digits(g_minus), activation)))
    held = _integrated(held_chain_netlist(spec.corner, float(spec.temp)))
    return PeripheryNoise(held, tuple(live), (NOISE_F_LOW, NOISE_F_HIGH))
