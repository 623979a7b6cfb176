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


@dataclass(frozen=True)
class ModeWiring:
    """What one recirculation mode feeds where in cycles k >= 1 (the table in the module docstring).

    The one vocabulary of the modes: the reference below, the netlist forms and
    the command line all read these flags, never lists of mode names.
    """

    name: str
    recirculates_error: bool
    """Layer 0 receives the error I - O^L(0) and the layers run without bias (``error``)."""
    blends_data_into_layer0: bool
    """Layer 0 receives lam I + (1 - lam) O^L(k-1) (a mixer per input neuron)."""
    layer1_reads_previous_output: bool
    """Layer 1 reads the unmixed O^L(k-1) instead of what layer 0 receives (``ccr``)."""
    blends_held_into_layers: bool
    """Layers 1..L output lam O^h(0) + (1 - lam) x fresh activity (a mixer per neuron)."""
    next_layer_reads_fresh: bool
    """With blended layers: the next layer reads the fresh (unblended) activity u^h
    (``ccr``, ``ccrcc``) rather than the blended output (``rwcc``)."""


MODES = {
    wiring.name: wiring for wiring in (
        #          name     error  blend0 l1_prev blend_h fresh
        ModeWiring("pr", False, False, False, False, False),
        ModeWiring("ccr", False, True, True, True, True),
        ModeWiring("rcc", False, True, False, False, False),
        ModeWiring("ccrcc", False, True, False, True, True),
        ModeWiring("rwcc", False, True, False, True, False),
        ModeWiring("error", True, False, False, False, False),
    )
}
"""The wiring of every recirculation mode, by name."""

MODE_NAMES = tuple(MODES)
"""Names of the recirculation schemes, see the module docstring (the command line's choices)."""

TOP_LAYER_NAMES = ("gradient", "eq48")
"""Readings of the top layer's update for cycle pairs other than (0, 1) (:attr:`Recirculation.top_layer`)."""

MAX_REFERENCE_CYCLES = 10_000
"""Largest m the reference accepts. Each cycle costs one forward pass, so m
cycles cost m forward passes per minibatch (memory stays at three cycles);
10 000 already makes a step 10 000 times slower than m = 1."""


@dataclass(frozen=True)
class Recirculation:
    """How activity is recirculated, and which two cycles the local rule compares."""

    mode: str = "pr"
    """One of :data:`MODE_NAMES`."""
    lam: float = 0.5
    """Mixing weight lambda in [0, 1] (dimensionless) of the held cycle-0 activity;
    unused by ``pr`` and ``error``."""
    cycles: tuple[int, int] = (0, 1)
    """The cycle pair (n, m), 0 <= n < m, of the update O^h(n) - O^h(m) (Theorem 6.3);
    ``error`` mode needs (0, 1)."""
    top_layer: str = "gradient"
    """How the top layer A^L learns when (n, m) != (0, 1), where the paper contradicts itself:
    ``gradient`` (default): post-synaptic ``O^0(0) - O^0(1)`` (= I - O^L(0), times 1 - lam in the
    modes that blend the data into layer 0), pre-synaptic ``O^{L-1}(0)``: gradient descent, as
    Section 7.3 says of the multi-cycle experiments (Fig. 10, "the top layer is updated with
    gradient descent in every case"); ``eq48``: post ``O^0(n) - O^0(m)`` (for n = 0 that is
    I - O^L(m-1)), pre ``O^{L-1}(n)``, as Eq. 48 (and Eq. 51 read with layer 0 as the top layer's
    post-synaptic neurons). The two agree at (0, 1). docs/LINEAR_DYNAMICS.md gives the reasons
    and the measurements behind the default."""

    def __post_init__(self):
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODE_NAMES)}, got {self.mode!r}")
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
        if self.top_layer not in TOP_LAYER_NAMES:
            raise ConfigError(f"top_layer must be one of {', '.join(TOP_LAYER_NAMES)}, got {self.top_layer!r}")

    @property
    def top_layer_in_use(self) -> str:
        """The reading the update arithmetic follows: ``gradient`` only when it differs from ``eq48``,
        i.e. for cycle pairs other than (0, 1) (at (0, 1) both are the same update)."""
        return "gradient" if self.top_layer == "gradient" and self.cycles != (0, 1) else "eq48"

    @property
    def wiring(self) -> ModeWiring:
        """The wiring of :attr:`mode` (:data:`MODES`)."""
        return MODES[self.mode]


def _chain(net: CircularAutoencoder, start: np.ndarray, with_bias: bool = True) -> list[np.ndarray]:
    """[u^1, ..., u^L] of a forward chain from u^0 = ``start`` (batch, N0)."""
    layers = [start]
    for h in range(1, net.n_layers + 1):
        layers.append(net.layer(h, layers[-1], with_bias))
    return layers[1:]


def _next_cycle(net, mode, lam, initial, previous):
    """[O^0(k), ..., O^L(k)] from cycle 0 (``initial``) and cycle k-1 (``previous``)."""
    wiring = MODES[mode]
    data, previous_output = initial[0], previous[-1]
    if wiring.recirculates_error:
        z = data - previous_output
        return [z] + _chain(net, z, with_bias=False)
    if not wiring.blends_data_into_layer0:
        return [previous_output] + _chain(net, previous_output)
    z = lam * data + (1.0 - lam) * previous_output
    if wiring.blends_held_into_layers and not wiring.next_layer_reads_fresh:
        layers = [z]
        for h in range(1, net.n_layers + 1):
            layers.append(lam * initial[h] + (1.0 - lam) * net.layer(h, layers[-1]))
        return layers
    fresh = _chain(net, previous_output if wiring.layer1_reads_previous_output else z)
    if wiring.blends_held_into_layers:
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
