"""The circuit data model: plain frozen dataclasses, no SPICE text.

A :class:`Circuit` holds generated :class:`Crossbar` subcircuits (one per
layer), named :class:`Block` groups of elements (each becomes a commented
section of the netlist), the hand-written cells it uses (by name, see
:mod:`recirc_analog.schematic.cells`), the analysis and the saved nodes.
Node ``"0"`` is ground. Values are SI: ohm, farad, volt, second.

Element kinds. Every element is one frozen dataclass that says, as data, what
the checks and the writers need and nothing about SPICE syntax:

``kind``
    the name the writers look their formatter up by (``format_<kind>`` in
    :class:`recirc_analog.netlist_writers.writer.SpiceWriter`);
``branches(cells)``
    the two-terminal paths it puts between nodes (:class:`Branch`, of kind
    ``source``, ``resistor`` or ``capacitor``) for the connectivity checks;
``sensed(cells)``
    the nodes it only reads (high-impedance inputs);
``parameters()``
    its numbers, each with a label, for the finite-number check;
``keywords()``
    the parameter names it writes (``name=value``), for the name check.

:func:`register_element` adds a class to :data:`ELEMENT_KINDS`; the checks
reject an element whose class is not registered. A new element kind (a wire
segment, a memristor with a model card, a PDK subcircuit) is one such class
plus one ``format_<kind>`` writer method.
"""

from dataclasses import dataclass, field
from typing import ClassVar, Mapping

import numpy as np

from recirc_analog.errors import NetlistError
from recirc_analog.schematic.cells import Cell
from recirc_analog.schematic.mapping import Conductances
from recirc_analog.schematic.node_map import NodeMap

GROUND = "0"
"""The ground node."""

BRANCH_KINDS = ("source", "resistor", "capacitor")
"""How a branch conducts, as the graph checks see it: an ideal voltage source, a
DC path of finite resistance, or a capacitor (no DC path)."""


@dataclass(frozen=True)
class Branch:
    """One two-terminal path an element puts between nodes ``a`` and ``b``."""

    a: str
    b: str
    kind: str
    """One of :data:`BRANCH_KINDS`."""

    def __post_init__(self):
        if self.kind not in BRANCH_KINDS:
            raise NetlistError(f"branch kind must be one of {', '.join(BRANCH_KINDS)}, got {self.kind!r}")


ELEMENT_KINDS: dict[str, type] = {}
"""Registered element classes by their ``kind``; see :func:`register_element`."""


def register_element(cls: type) -> type:
    """Register the element class ``cls`` under ``cls.kind`` (usable as a class decorator).

    ``cls`` must define ``kind`` (a new name), ``name``, ``branches``, ``sensed``,
    ``parameters`` and ``keywords`` (see the module docstring; :class:`ElementBase`
    supplies the last three); NetlistError otherwise.
    """
    kind = getattr(cls, "kind", None)
    if not isinstance(kind, str) or not kind.isidentifier():
        raise NetlistError(f"element class {cls.__name__} must define kind as an identifier, got {kind!r}")
    if ELEMENT_KINDS.get(kind, cls) is not cls:
        raise NetlistError(f"element kind {kind!r} is already registered by {ELEMENT_KINDS[kind].__name__}")
    missing = [m for m in ("branches", "sensed", "parameters", "keywords") if not callable(getattr(cls, m, None))]
    if missing:
        raise NetlistError(f"element class {cls.__name__} must define {', '.join(missing)}")
    ELEMENT_KINDS[kind] = cls
    return cls


class ElementBase:
    """Defaults for element classes: nothing sensed, no numbers. Plain inheritance, no magic."""

    kind: ClassVar[str]

    def branches(self, cells: Mapping[str, Cell]) -> tuple[Branch, ...]:
        raise NotImplementedError

    def sensed(self, cells: Mapping[str, Cell]) -> tuple[str, ...]:
        """Nodes this element only reads."""
        return ()

    def parameters(self) -> tuple[tuple[str, float], ...]:
        """(label, value) of every number this element writes, for the finite-number check."""
        return ()

    def keywords(self) -> tuple[str, ...]:
        """Parameter names this element writes as ``name=value``, for the name check."""
        return ()


@register_element
@dataclass(frozen=True)
class Resistor(ElementBase):
    """Linear resistor between ``a`` and ``b`` (ohm)."""

    name: str
    a: str
    b: str
    ohms: float

    kind = "resistor"

    def branches(self, cells):
        return (Branch(self.a, self.b, "resistor"),)

    def parameters(self):
        return ((f"resistance of {self.name}", self.ohms),)


@register_element
@dataclass(frozen=True)
class Capacitor(ElementBase):
    """Linear capacitor between ``a`` and ``b`` (F)."""

    name: str
    a: str
    b: str
    farads: float

    kind = "capacitor"

    def branches(self, cells):
        return (Branch(self.a, self.b, "capacitor"),)

    def parameters(self):
        return ((f"capacitance of {self.name}", self.farads),)


@register_element
@dataclass(frozen=True)
class VoltageSource(ElementBase):
    """Constant voltage source, ``v(pos) - v(neg) = volts`` (V)."""

    name: str
    pos: str
    neg: str
    volts: float

    kind = "voltage_source"

    def branches(self, cells):
        return (Branch(self.pos, self.neg, "source"),)

    def parameters(self):
        return ((f"voltage of {self.name}", self.volts),)


def table_points(values, what: str) -> np.ndarray:
    """``values`` (a sequence of numbers) as a read-only float64 array of shape (points,).

    An array that already is one, and whose memory nothing can write (no writeable array
    below it either), is kept as it is (no copy: many tables may share one abscissa, and a
    minibatch's tables may be the rows of one array); anything else is copied, so a caller
    changing its own array later cannot change the element. NetlistError if ``values`` is
    not a one-dimensional sequence of numbers.
    """
    if type(values) is np.ndarray and values.dtype == np.float64 and values.ndim == 1 and _frozen(values):
        return values
    try:
        array = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise NetlistError(f"{what} must be a sequence of numbers, got {_first_bad(values)!r}") from None
    if array.ndim != 1:
        raise NetlistError(f"{what} must be a one-dimensional sequence of numbers, got shape {array.shape}")
    array.flags.writeable = False
    return array


def _first_bad(values):
    """The first entry of ``values`` that is not a number (``values`` itself if it is not a sequence)."""
    try:
        entries = list(values)
    except TypeError:
        return values
    for value in entries:
        try:
            float(value)
        except (TypeError, ValueError):
            return value
    return values


def _frozen(array: np.ndarray) -> bool:
    """Whether neither ``array`` nor any array whose memory it views is writeable."""
    while isinstance(array, np.ndarray):
        if array.flags.writeable:
            return False
        array = array.base
    return True


@register_element
@dataclass(frozen=True, eq=False)
class TableSource(ElementBase):
    """Behavioural source ``v(pos) = table(v(control))``, linear between the points.

    Holds a minibatch: ``xs`` are sample indices 0..B-1 (the swept selector in
    the dc form, the sample counter in the tran form), ``ys`` the volts. Both are
    stored as read-only float64 arrays (:func:`table_points`: any sequence of numbers
    is accepted); equality compares them value for value, as tuples of floats would.
    """

    name: str
    pos: str
    control: str
    xs: np.ndarray
    """Abscissae (V of ``control``), shape (points,), read-only float64."""
    ys: np.ndarray
    """Volts at the abscissae, shape (points,) like ``xs``, read-only float64."""

    kind = "table_source"

    def __post_init__(self):
        object.__setattr__(self, "xs", table_points(self.xs, f"table abscissae of {self.name}"))
        object.__setattr__(self, "ys", table_points(self.ys, f"table values of {self.name}"))
        if len(self.xs) != len(self.ys):
            raise NetlistError(f"table of {self.name} must have as many values as abscissae, got {len(self.ys)} "
                               f"values for {len(self.xs)} abscissae")

    @classmethod
    def many(cls, names, positions, control: str, xs, values) -> tuple["TableSource", ...]:
        """Tables ``names[k]`` driving ``positions[k]`` from ``control``, all on the abscissae ``xs``
        (points,), table k's values the row ``values[k]`` of a (tables, points) array (V).

        The same elements as one :class:`TableSource` per table (equal, and read-only arrays: the
        rows view one read-only copy of ``values``, ``xs`` is shared), made without one check per
        table: the arrays are checked once, here (a minibatch's 784 input tables are made anew for
        every co-simulated minibatch, and ``__init__`` with its checks per table costs several ms at
        784-20-784, against ~0.5 ms here).
        """
        xs = table_points(xs, f"table abscissae of {names[0] if len(names) else control}")
        try:
            table = np.array(values, dtype=np.float64, order="C")        # a copy the caller cannot reach
        except (TypeError, ValueError):
            raise NetlistError(f"table values from {control} must be numbers, got {_first_bad(values)!r}") from None
        if table.shape != (len(names), len(xs)) or len(positions) != len(names):
            raise NetlistError(f"{len(names)} tables on {len(xs)} abscissae need values of shape "
                               f"({len(names)}, {len(xs)}) and {len(names)} nodes, got {table.shape} and "
                               f"{len(positions)}")
        table.flags.writeable = False
        made, new = [], object.__new__
        for name, pos, ys in zip(names, positions, table):
            element = new(cls)
            element.__dict__.update(name=name, pos=pos, control=control, xs=xs, ys=ys)  # what __init__ stores
            made.append(element)
        return tuple(made)

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return ((self.name, self.pos, self.control) == (other.name, other.pos, other.control)
                and np.array_equal(self.xs, other.xs) and np.array_equal(self.ys, other.ys))

    def __hash__(self):
        return hash((self.name, self.pos, self.control, len(self.xs)))

    def __reduce__(self):
        # through __init__ again, so an unpickled or deep-copied table is read-only too
        return (type(self), (self.name, self.pos, self.control, self.xs, self.ys))

    def branches(self, cells):
        return (Branch(self.pos, GROUND, "source"),)

    def sensed(self, cells):
        return (self.control,)

    def parameters(self):
        label = f"table value of {self.name}"
        return tuple((label, value) for value in self.xs.tolist() + self.ys.tolist())


@register_element
@dataclass(frozen=True)
class PhaseClock(ElementBase):
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

    kind = "phase_clock"

    def branches(self, cells):
        return (Branch(self.pos, GROUND, "source"),)

    def parameters(self):
        return ((f"slot of {self.name}", self.slot), (f"amplitude of {self.name}", self.amplitude))


@register_element
@dataclass(frozen=True)
class SampleCounter(ElementBase):
    """Behavioural source whose voltage is the index of the current sample (V = index):
    ``floor((n - lead_in) / phases)`` in slot ``n`` (see :class:`PhaseClock`)."""

    name: str
    pos: str
    slot: float
    phases: int
    lead_in: int

    kind = "sample_counter"

    def branches(self, cells):
        return (Branch(self.pos, GROUND, "source"),)

    def parameters(self):
        return ((f"slot of {self.name}", self.slot),)


@register_element
@dataclass(frozen=True)
class Instance(ElementBase):
    """An instance of a hand-written cell or a generated subcircuit.

    ``params`` are (name, value) pairs passed to a cell; generated subcircuits
    take none.
    """

    name: str
    cell: str
    nodes: tuple[str, ...]
    params: tuple[tuple[str, float], ...] = ()

    kind = "instance"

    def _ports(self, cells) -> dict:
        """Port name -> node (and ground -> ground) of the cell this instance uses."""
        if len(set(self.nodes)) != len(self.nodes):
            raise NetlistError(f"instance {self.name} connects two of its ports to the same node")
        cell = cells.get(self.cell)
        if cell is None:
            raise NetlistError(f"instance {self.name} uses unknown cell {self.cell!r}")
        if len(self.nodes) != len(cell.ports):
            raise NetlistError(f"instance {self.name} of {cell.name} needs {len(cell.ports)} nodes, "
                               f"got {len(self.nodes)}")
        return dict(zip(cell.ports, self.nodes), **{GROUND: GROUND})

    def branches(self, cells):
        """The cell's internal paths between the connected nodes; a generated crossbar
        (``cell.mesh``) joins every port to one hub node ``<name>.mesh``."""
        port, cell = self._ports(cells), cells[self.cell]
        if cell.mesh:
            return tuple(Branch(node, f"{self.name}.mesh", "resistor") for node in self.nodes)
        return (tuple(Branch(port[a], port[b], "source") for a, b in cell.sources)
                + tuple(Branch(port[a], port[b], "resistor") for a, b in cell.resistors)
                + tuple(Branch(port[a], GROUND, "capacitor") for a in cell.capacitors))

    def sensed(self, cells):
        port, cell = self._ports(cells), cells[self.cell]
        return tuple(port[p] for p in cell.ports if p not in cell.wired_ports)

    def parameters(self):
        return tuple((f"parameter {key} of {self.name}", value) for key, value in self.params)

    def keywords(self):
        return tuple(key for key, _ in self.params)


@register_element
@dataclass(frozen=True)
class Memristor(ElementBase):
    """A memristor compact-model instance between ``p`` and ``n`` (issue 13): the subcircuit
    ``model.cell`` of ``circuits/memristors/`` with ``model``'s parameters and initial state ``x0``.

    Positive ``v(p) - v(n)`` raises the state (see :mod:`recirc_analog.devices.compact.models`).
    The state is the voltage of the instance's internal node, which the writer always saves,
    as ``v(<name>.x)`` (:attr:`state_node`); ``x0`` sets it at the start of a ``.tran ... uic``. The circuit lists
    ``model.cell`` in :attr:`Circuit.cells` so that the writer includes the model's library.
    For the graph checks the device is a resistive path ``p``-``n`` (its conductance is finite
    everywhere in [0, 1] except Yakopcic's x = 0). Transient analyses only: in a ``.dc`` or ``.op``
    the state node (a capacitor and a current source) has no DC solution. The tran form's
    backward Euler at one step per ``max_step`` integrates the state to first order
    (``tests/test_memristor_element.py``: 4000 steps, within 2e-4 of the ODE).
    """

    name: str
    """Instance name: a subcircuit instance, so it starts with X (letters, digits, '_')."""
    p: str
    """Node the positive terminal connects to."""
    n: str
    """Node the negative terminal connects to."""
    model: object
    """The model record (:class:`~recirc_analog.devices.compact.models.Vteam` or ``Yakopcic``)."""
    x0: float = 0.5
    """Initial state (unitless, [0, 1])."""

    kind = "memristor"

    def __post_init__(self):
        from recirc_analog.devices.compact.models import COMPACT_MODELS

        if not isinstance(self.model, tuple(COMPACT_MODELS.values())):
            raise NetlistError(f"model of memristor {self.name!r} must be one of "
                               f"{', '.join(c.__name__ for c in COMPACT_MODELS.values())}, "
                               f"got {type(self.model).__name__}")
        if not (isinstance(self.name, str) and self.name[:1] in ("X", "x")):
            raise NetlistError(f"memristor name must start with X (a subcircuit instance), got {self.name!r}")
        if not (isinstance(self.x0, (int, float)) and 0.0 <= self.x0 <= 1.0):
            raise NetlistError(f"x0 of memristor {self.name} must be in [0, 1], got {self.x0!r}")

    @property
    def state_node(self) -> str:
        """The node holding the state, as ngspice names it (``<name>.x``, lower case)."""
        return f"{self.name.lower()}.x"

    def branches(self, cells):
        return (Branch(self.p, self.n, "resistor"),)

    def spice_parameters(self) -> tuple[tuple[str, float], ...]:
        """(subcircuit parameter, value): ``x0`` then the model's parameters."""
        from recirc_analog.devices.compact.models import spice_parameters

        return (("x0", float(self.x0)),) + spice_parameters(self.model)

    def parameters(self):
        return tuple((f"parameter {key} of {self.name}", value) for key, value in self.spice_parameters())

    def keywords(self):
        return tuple(key for key, _ in self.spice_parameters())


Element = Resistor | Capacitor | VoltageSource | TableSource | PhaseClock | SampleCounter | Instance
"""The built-in element kinds (all in :data:`ELEMENT_KINDS`); the checks and writers accept any
registered kind, this union only documents the ones the builder makes."""


@dataclass(frozen=True)
class Block:
    """A group of elements that forms one functional block; ``comment`` names it."""

    comment: str
    elements: tuple[Element, ...]
    cycle: int | None = None
    """The recirculation cycle whose copy this block belongs to (dc form); None for blocks every
    cycle uses (selector, bias, data inputs) and in the tran form. Lets an engine simulate one
    cycle per analysis (:mod:`recirc_analog.schematic.dc_cycles`)."""


@dataclass(frozen=True)
class Crossbar:
    """A generated crossbar tile subcircuit: a resistor between every row and column port,
    and optionally the wire resistance of its lines.

    Ports in instance order: ``rows`` then ``plus_columns``, then ``minus_columns``
    (differential) and ``reference_column`` (shared reference, first column tile
    only). Device names use the layer-wide indices: ``Rp_<i>_<j>`` / ``Rn_<i>_<j>``
    (differential) or ``R_<i>_<j>`` and ``Rref_<j>`` for neuron
    ``i = column_start + local column`` and row ``j = row_start + local row``
    (row N_in is the bias).

    Physical layout (``netlists/README.md``, "Wire resistance"): local row ``l`` is
    ``rows[l]``; the physical column lines, in order along every row line, are
    :attr:`column_ports` (plus columns, minus columns, reference column), local
    column ``k`` being ``column_ports[k]``. Row line ``l`` is driven at the end next to
    local column 0 (through ``r_driver`` from its row port), column line ``k`` is sensed
    at the end after the last local row (through ``r_sense`` into its column port);
    one ``r_row`` segment lies before each device along a row, one ``r_col`` segment
    after each device along a column. With all four resistances 0 a port is the
    whole line (the ideal crossbar).
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
    r_row: float = 0.0
    """Row-line resistance per cell pitch (ohm): driver to first device, and between devices."""
    r_col: float = 0.0
    """Column-line resistance per cell pitch (ohm): between devices, and last device to sense node."""
    r_driver: float = 0.0
    """Output resistance of each row line's own driver (ohm), between the row port and the line."""
    r_sense: float = 0.0
    """Input resistance of each column line's sense node (ohm), between the line and the column port."""

    def __post_init__(self):
        from recirc_analog.schematic.spec import check_wire_resistances

        check_wire_resistances(self)

    @property
    def ports(self) -> tuple[str, ...]:
        """All ports in instance order."""
        return self.rows + self.column_ports

    @property
    def column_ports(self) -> tuple[str, ...]:
        """The column lines in physical order along a row line (local column k is entry k)."""
        tail = (self.minus_columns or ()) + ((self.reference_column,) if self.reference_column else ())
        return self.plus_columns + tail

    @property
    def has_wires(self) -> bool:
        """True when any wire, driver or sense resistance is non-zero."""
        return any((self.r_row, self.r_col, self.r_driver, self.r_sense))

    def conductance_matrix(self):
        """Device conductances (S) as a (local rows, local columns) array in physical order:
        entry [l, k] joins row line ``rows[l]`` to column line ``column_ports[k]``."""
        import numpy as np

        c = self.conductances
        parts = [c.plus] + ([c.minus] if c.minus is not None else [])
        parts += [np.asarray(c.reference, dtype=float)[None, :]] if c.reference is not None else []
        return np.concatenate([np.asarray(p, dtype=float) for p in parts], axis=0).T

    def wiring(self) -> "TileWiring":
        """The tile's wire network: internal nodes and segment resistors (see :class:`TileWiring`)."""
        n_rows, n_columns = len(self.rows), len(self.column_ports)
        resistors, row_sites, column_sites = [], [], []
        for r, port in enumerate(self.rows):
            links = [(f"Rdrv_{r}", f"wd{r}", self.r_driver)]
            links += [(f"Rwr_{r}_{k}", f"wr{r}_{k}", self.r_row) for k in range(n_columns)]
            row_sites.append(_chain(port, links, resistors)[2:])
        for k, port in enumerate(self.column_ports):
            links = [(f"Rsns_{k}", f"ws{k}", self.r_sense)]
            links += [(f"Rwc_{r}_{k}", f"wc{r}_{k}", self.r_col) for r in reversed(range(n_rows))]
            column_sites.append(_chain(port, links, resistors)[:1:-1])
        return TileWiring(tuple(resistors), tuple(tuple(row) for row in row_sites),
                          tuple(tuple(column_sites[k][r] for k in range(n_columns)) for r in range(n_rows)))

    @property
    def cell(self) -> Cell:
        """This tile as the graph checks see it: every port joined to one hub (a device of
        finite resistance joins every row to every column, so a star is equivalent)."""
        return Cell(self.name, None, self.ports, mesh=True)


def _chain(start: str, links, resistors: list) -> list[str]:
    """Walk a line from ``start`` through ``links`` (name, next node, ohm): a link of 0 ohm
    merges its node into the previous one, any other appends a :class:`Resistor` to
    ``resistors``. Returns the node reached after each link, ``start`` first."""
    nodes = [start]
    for name, node, ohms in links:
        if ohms:
            resistors.append(Resistor(name, nodes[-1], node, float(ohms)))
            nodes.append(node)
        else:
            nodes.append(nodes[-1])
    return nodes


@dataclass(frozen=True)
class TileWiring:
    """The wire network of one :class:`Crossbar` tile, in local indices (``l`` row, ``k`` column).

    Internal node names (inside the tile subcircuit): ``wd<l>`` after row l's driver,
    ``wr<l>_<k>`` on row line l at column k, ``wc<l>_<k>`` on column line k at row l,
    ``ws<k>`` at column k's end before the sense resistor. Resistor names: ``Rdrv_<l>``,
    ``Rwr_<l>_<k>`` (the row segment just before column k), ``Rwc_<l>_<k>`` (the column
    segment just after row l), ``Rsns_<k>``; none can collide with a device name
    (``Rp_``, ``Rn_``, ``R_``, ``Rref_``). A zero resistance makes no resistor: its two
    nodes are one (with all four zero every site node is a port).
    """

    resistors: tuple[Resistor, ...]
    """Driver, row-segment, column-segment and sense resistors, row lines first."""
    row_sites: tuple[tuple[str, ...], ...]
    """``row_sites[l][k]``: the node where device (l, k) meets its row line."""
    column_sites: tuple[tuple[str, ...], ...]
    """``column_sites[l][k]``: the node where device (l, k) meets its column line."""


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
    starting from zero initial conditions (``uic``), backward Euler, one step per ``max_step``;
    or, with ``operating_point``, from the DC operating point with the simulator's own step
    control (transistor cells: op-amps need their bias, and settle within a phase)."""

    step: float
    stop: float
    max_step: float
    operating_point: bool = False
    """Start from the operating point (no ``uic``) and let the simulator choose steps up to ``max_step``."""


@dataclass(frozen=True)
class PdkModels:
    """The transistor models a circuit of PDK cells needs (the sky130 periphery, issue 12)."""

    corner: str
    """Process corner, a section of the model library (tt, ss, ff, sf, fs)."""
    temp: float
    """Die temperature (degC), written as ``.temp``."""
    library: str | None = None
    """Absolute path of a model library file (``recirc_analog.pdk.models.write_model_library``) to
    reference with ``.lib``; None: the writer inlines the corner's section."""


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
    models: PdkModels | None = None
    """Transistor models of the PDK cells used (None: the circuit has none)."""
    budget: object | None = field(default=None, compare=False, repr=False)
    """The voltage plan (``schematic.voltage_budget.Budget``) the builder chose for this circuit's inputs and
    conductances, kept so that metrics of the same reading (noise floor, stage peaks) need not plan it again;
    None for a circuit made otherwise. Not part of the netlist."""
