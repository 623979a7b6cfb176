"""The circuit data model: plain frozen dataclasses, no SPICE text.

A :class:`Circuit` holds generated :class:`Crossbar` subcircuits (one per
layer), named :class:`Block` groups of elements (each becomes a commented
section of the netlist), the hand-written cells it uses (by name, see
:mod:`recirc_analog.schematic.cells`), the analysis and the saved nodes.
Node ``"0"`` is ground. Values are SI: ohm, farad, volt, second.
"""

from dataclasses import dataclass

from recirc_analog.schematic.mapping import Conductances
from recirc_analog.schematic.node_map import NodeMap


@dataclass(frozen=True)
class Resistor:
    """Linear resistor between ``a`` and ``b`` (ohm)."""

    name: str
    a: str
    b: str
    ohms: float


@dataclass(frozen=True)
class Capacitor:
    """Linear capacitor between ``a`` and ``b`` (F)."""

    name: str
    a: str
    b: str
    farads: float


@dataclass(frozen=True)
class VoltageSource:
    """Constant voltage source, ``v(pos) - v(neg) = volts`` (V)."""

    name: str
    pos: str
    neg: str
    volts: float


@dataclass(frozen=True)
class TableSource:
    """Behavioural source ``v(pos) = table(v(control))``, linear between the points.

    Holds a minibatch: ``xs`` are sample indices 0..B-1 (the swept selector in
    the dc form, the sample counter in the tran form), ``ys`` the volts.
    """

    name: str
    pos: str
    control: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]


@dataclass(frozen=True)
class PhaseClock:
    """Behavioural clock of ``time``: ``amplitude`` volts while the phase index
    (0..``phases``-1 within each sample) is one of ``active``, else 0 V.

    Time is divided into slots of length ``slot`` (s) centred on multiples of
    ``slot``; slot ``n`` is phase ``(n - lead_in) mod phases``.
    """

    name: str
    pos: str
    slot: float
    phases: int
    lead_in: int
    active: tuple[int, ...]
    amplitude: float = 1.0


@dataclass(frozen=True)
class SampleCounter:
    """Behavioural source whose voltage is the index of the current sample (V = index):
    ``floor((n - lead_in) / phases)`` in slot ``n`` (see :class:`PhaseClock`)."""

    name: str
    pos: str
    slot: float
    phases: int
    lead_in: int


@dataclass(frozen=True)
class Instance:
    """An instance of a hand-written cell or a generated subcircuit.

    ``params`` are (name, value) pairs passed to a cell; generated subcircuits
    take none.
    """

    name: str
    cell: str
    nodes: tuple[str, ...]
    params: tuple[tuple[str, float], ...] = ()


Element = Resistor | Capacitor | VoltageSource | TableSource | PhaseClock | SampleCounter | Instance


@dataclass(frozen=True)
class Block:
    """A group of elements that forms one functional block; ``comment`` names it."""

    comment: str
    elements: tuple[Element, ...]


@dataclass(frozen=True)
class Crossbar:
    """A generated crossbar tile subcircuit: a resistor between every row and column port.

    Ports in instance order: ``rows`` then ``plus_columns``, then ``minus_columns``
    (differential) and ``reference_column`` (shared reference, first column tile
    only). Device names use the layer-wide indices: ``Rp_<i>_<j>`` / ``Rn_<i>_<j>``
    (differential) or ``R_<i>_<j>`` and ``Rref_<j>`` for neuron
    ``i = column_start + local column`` and row ``j = row_start + local row``
    (row N_in is the bias).
    """

    name: str
    comment: str
    rows: tuple[str, ...]
    plus_columns: tuple[str, ...]
    minus_columns: tuple[str, ...] | None
    reference_column: str | None
    conductances: Conductances
    """Device conductances (S) of this tile; resistor values are their inverses."""
    row_start: int = 0
    column_start: int = 0

    @property
    def ports(self) -> tuple[str, ...]:
        """All ports in instance order."""
        tail = (self.minus_columns or ()) + ((self.reference_column,) if self.reference_column else ())
        return self.rows + self.plus_columns + tail


@dataclass(frozen=True)
class DcSweep:
    """``.dc`` sweep of the voltage source ``source`` from ``start`` to ``stop`` (V)."""

    source: str
    start: float
    stop: float
    step: float


@dataclass(frozen=True)
class Transient:
    """``.tran`` with output step ``step``, end ``stop`` and maximum step ``max_step`` (s),
    starting from zero initial conditions (``uic``), backward Euler."""

    step: float
    stop: float
    max_step: float


@dataclass(frozen=True)
class Circuit:
    """A complete circuit: what the writers turn into one netlist."""

    title: str
    description: tuple[str, ...]
    cells: tuple[str, ...]
    crossbars: tuple[Crossbar, ...]
    blocks: tuple[Block, ...]
    analysis: DcSweep | Transient
    reltol: float
    """Simulator relative tolerance."""
    vntol: float
    """Simulator absolute voltage tolerance (V)."""
    saves: tuple[str, ...]
    """Nodes whose voltages are saved (the ones a controller reads)."""
    node_map: NodeMap
    """Which saved node carries which activity; the devices of each weight."""
