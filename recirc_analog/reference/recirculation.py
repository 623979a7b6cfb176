"""Recirculation cycles of a circular autoencoder (Section 4, Tables 1-4).

Cycle 0 is the ordinary forward pass: ``O^0(0) = I``,
``O^h(0) = F^h(A^h O^{h-1}(0) + b^h)``. Each later cycle k = 1..m feeds a
vector ``z_k`` back into layer 0 (``O^0(k) = z_k``) and recomputes the layers:

==========  ==============================  ===============================================
mode        z_k (recirculated input)        O^h(k), h = 1..L
==========  ==============================  ===============================================
``pr``      O^L(k-1)                        u^h, chain from u^0 = z_k (Table 1, Eq. 20)
``ccr``     lam I + (1-lam) O^L(k-1)        lam O^h(0) + (1-lam) u^h, chain from
                                            u^0 = O^L(k-1) (Table 2, Eq. 26)
``rcc``     lam I + (1-lam) O^L(k-1)        u^h, chain from u^0 = z_k (Table 3)
``ccrcc``   lam I + (1-lam) O^L(k-1)        lam O^h(0) + (1-lam) u^h, chain from
                                            u^0 = z_k (Table 4)
``rwcc``    lam I + (1-lam) O^L(k-1)        lam O^h(0) + (1-lam) F^h(A^h O^{h-1}(k) + b^h)
                                            (the mixed activity is passed forward)
``error``   I - O^L(0)  (m = 1 only)        F^h(A^h O^{h-1}(1)), no bias (Section 5)
==========  ==============================  ===============================================

Here ``u^h = F^h(A^h u^{h-1} + b^h)`` is a fresh forward chain.

Cycle k depends only on cycle 0 and cycle k-1, so a learning rule needs just
cycles n and m: :func:`cycle_pair` computes them keeping at most three cycles
in memory, whatever m is. :func:`run_cycles` returns every cycle (for tests
and the circuit, whose m is bounded by the circuit spec). m itself is bounded
by :data:`MAX_REFERENCE_CYCLES`.
"""

from dataclasses import dataclass

import numpy as np

from recirc_analog.errors import ConfigError, check_range
from recirc_analog.reference.network import CircularAutoencoder

RECIRCULATION_MODES = ("pr", "ccr", "rcc", "ccrcc", "rwcc", "error")
"""Names of the recirculation schemes, see the module docstring."""

MAX_REFERENCE_CYCLES = 10_000
"""Largest m the reference accepts. Each cycle costs one forward pass, so m
cycles cost m forward passes per minibatch (memory stays at three cycles);
10 000 already makes a step 10 000 times slower than m = 1."""

_MIXED_INPUT_MODES = ("ccr", "rcc", "ccrcc", "rwcc")
_MIXED_LAYER_MODES = ("ccr", "ccrcc")


@dataclass(frozen=True)
class Recirculation:
    """How activity is recirculated, and which two cycles the local rule compares."""

    mode: str = "pr"
    """One of :data:`RECIRCULATION_MODES`."""
    lam: float = 0.5
    """Mixing weight lambda in [0, 1] (dimensionless) of the held cycle-0 activity;
    unused by ``pr`` and ``error``."""
    cycles: tuple[int, int] = (0, 1)
    """The cycle pair (n, m), 0 <= n < m, of the update O^h(n) - O^h(m) (Theorem 6.3);
    ``error`` mode needs (0, 1)."""

    def __post_init__(self):
        if self.mode not in RECIRCULATION_MODES:
            raise ConfigError(
                f"mode must be one of {', '.join(RECIRCULATION_MODES)}, got {self.mode!r}")
        check_range("lam", self.lam, 0, 1)
        try:
            n, m = self.cycles
            valid = all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in (n, m))
        except (TypeError, ValueError):
            valid = False
        if not valid or not 0 <= n < m:
            raise ConfigError(f"cycles must be two integers (n, m) with 0 <= n < m, got {self.cycles!r}")
        check_range("cycles m", m, 1, MAX_REFERENCE_CYCLES)
        if self.mode == "error" and (n, m) != (0, 1):
            raise ConfigError(f"cycles must be (0, 1) in error mode, got {self.cycles!r}")
        object.__setattr__(self, "cycles", (int(n), int(m)))


def _chain(net: CircularAutoencoder, start: np.ndarray, with_bias: bool = True) -> list[np.ndarray]:
    """[u^1, ..., u^L] of a forward chain from u^0 = ``start`` (batch, N0)."""
    layers = [start]
    for h in range(1, net.n_layers + 1):
        layers.append(net.layer(h, layers[-1], with_bias))
    return layers[1:]


def _next_cycle(net, mode, lam, initial, previous):
    """[O^0(k), ..., O^L(k)] from cycle 0 (``initial``) and cycle k-1 (``previous``)."""
    data, previous_output = initial[0], previous[-1]
    if mode == "error":
        z = data - previous_output
        return [z] + _chain(net, z, with_bias=False)
    if mode == "pr":
        return [previous_output] + _chain(net, previous_output)
    z = lam * data + (1.0 - lam) * previous_output
    if mode == "rwcc":
        layers = [z]
        for h in range(1, net.n_layers + 1):
            layers.append(lam * initial[h] + (1.0 - lam) * net.layer(h, layers[-1]))
        return layers
    fresh = _chain(net, previous_output if mode == "ccr" else z)
    if mode in _MIXED_LAYER_MODES:
        fresh = [lam * held + (1.0 - lam) * u for held, u in zip(initial[1:], fresh)]
    return [z] + fresh


def run_cycles(net: CircularAutoencoder, x, recirculation: Recirculation,
               first_cycle: list[np.ndarray] | None = None) -> list[list[np.ndarray]]:
    """All cycles 0..m of ``recirculation`` for the batch ``x`` of shape (batch, N0).

    Returns ``result`` with ``result[t][h] = O^h(t)`` of shape (batch, N_h) for
    t = 0..m (m = ``recirculation.cycles[1]``) and h = 0..L; ``result[t][0]`` is
    the vector recirculated into layer 0 at cycle t (the data at t = 0).
    ``first_cycle``, if given, is ``net.forward(x)`` already computed. It keeps
    all m + 1 cycles; a learning rule should use :func:`cycle_pair`.
    """
    cycles = [first_cycle if first_cycle is not None else net.forward(x)]
    for _ in range(recirculation.cycles[1]):
        cycles.append(_next_cycle(net, recirculation.mode, recirculation.lam, cycles[0], cycles[-1]))
    return cycles


def cycle_pair(net: CircularAutoencoder, x, recirculation: Recirculation,
               first_cycle: list[np.ndarray] | None = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(cycle n, cycle m) of ``recirculation`` for the batch ``x``: ``run_cycles(...)[n]``
    and ``[m]``, computed iteratively holding only cycles 0, n and the latest one."""
    n, m = recirculation.cycles
    initial = first_cycle if first_cycle is not None else net.forward(x)
    latest, kept = initial, initial if n == 0 else None
    for k in range(1, m + 1):
        latest = _next_cycle(net, recirculation.mode, recirculation.lam, initial, latest)
        if k == n:
            kept = latest
    return kept, latest
