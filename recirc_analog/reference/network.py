"""The circular autoencoder A*[N0, N1, ..., N_{L-1}, N0] (Section 2.2, Eq. 5).

Layer ``h = 1..L`` computes ``S^h = O^{h-1} A^h^T + b^h`` and
``O^h = f_h(S^h)`` on row-major batches; layer ``L`` is the output and, in a
circular autoencoder, is physically layer 0 again. ``weights[h-1]`` is
``A^h`` with shape ``(N_h, N_{h-1})`` and ``biases[h-1]`` is ``b^h`` with shape
``(N_h,)``. All quantities are dimensionless activities; the circuit maps
them to volts and siemens elsewhere.

The ``weights.npz`` file format (shared with the netlist generator and the
co-simulation): keys ``A1..AL`` and ``b1..bL`` (float64), ``sizes`` (int
array of length L+1) and ``activations`` (array of L strings).
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from recirc_analog.errors import ConfigError, DataError
from recirc_analog.limits import check_layer_widths
from recirc_analog.reference.activations import Activation, get_activation


def _as_rng(rng_or_seed) -> np.random.Generator:
    if isinstance(rng_or_seed, np.random.Generator):
        return rng_or_seed
    if isinstance(rng_or_seed, (int, np.integer)) and not isinstance(rng_or_seed, bool):
        return np.random.default_rng(int(rng_or_seed))
    raise ConfigError(f"seed must be an int or a numpy Generator, got {rng_or_seed!r}")


def glorot_uniform(rng: np.random.Generator, n_out: int, n_in: int) -> np.ndarray:
    """Glorot & Bengio (2010) uniform matrix, shape (n_out, n_in), limit sqrt(6/(n_in+n_out))."""
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_out, n_in))


def _check_sizes(sizes) -> tuple[int, ...]:
    try:
        values = tuple(sizes)
    except TypeError:
        raise ConfigError(f"sizes must be a sequence of layer widths, got {sizes!r}") from None
    if len(values) < 3:
        raise ConfigError(
            f"sizes must list at least 3 layer widths (N0, N1, N0: 2 weight layers), got {values!r}")
    for n in values:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"sizes must be positive integers, got {values!r}")
    if values[0] != values[-1]:
        raise ConfigError(
            f"sizes of a circular autoencoder must start and end with the same width, got {values!r}")
    values = tuple(int(n) for n in values)
    check_layer_widths(values)
    return values


def _check_activations(activations, n_layers: int) -> tuple[str, ...]:
    if isinstance(activations, str) or not isinstance(activations, Sequence):
        raise ConfigError(
            f"activations must be a sequence of {n_layers} names (layers 1..{n_layers}), "
            f"got {activations!r}")
    names = tuple(str(a) for a in activations)
    if len(names) != n_layers:
        raise ConfigError(
            f"activations must have length {n_layers} (one per layer 1..{n_layers}), "
            f"got {len(names)}: {names!r}")
    for name in names:
        get_activation(name)
    return names


def _check_arrays(kind: str, arrays, shapes) -> list[np.ndarray]:
    arrays = list(arrays)
    if len(arrays) != len(shapes):
        raise ConfigError(f"{kind} must hold {len(shapes)} arrays, got {len(arrays)}")
    checked = []
    for h, (array, shape) in enumerate(zip(arrays, shapes), start=1):
        if np.iscomplexobj(array):
            raise ConfigError(f"{kind}[{h - 1}] (layer {h}) holds complex numbers; it must be real")
        array = np.array(array, dtype=float)
        if array.shape != shape:
            raise ConfigError(f"{kind}[{h - 1}] (layer {h}) must have shape {shape}, got {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ConfigError(f"{kind}[{h - 1}] (layer {h}) contains NaN or inf")
        checked.append(array)
    return checked


class CircularAutoencoder:
    """Weights, biases and transfer functions of a circular autoencoder.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths ``(N0, N1, ..., N_{L-1}, N0)``; at least 3 entries, first == last.
    activations : sequence of str
        ``L`` transfer-function names for layers ``1..L``.
    weights, biases : sequences of arrays, optional
        ``A^h`` of shape ``(N_h, N_{h-1})`` and ``b^h`` of shape ``(N_h,)``;
        zeros when omitted (use :meth:`initialise` or :meth:`random`).
    """

    def __init__(self, sizes, activations, weights=None, biases=None):
        self.sizes = _check_sizes(sizes)
        self.activations = _check_activations(activations, len(self.sizes) - 1)
        weight_shapes = [(self.sizes[h], self.sizes[h - 1]) for h in range(1, len(self.sizes))]
        bias_shapes = [(n,) for n in self.sizes[1:]]
        if weights is None:
            weights = [np.zeros(shape) for shape in weight_shapes]
        if biases is None:
            biases = [np.zeros(shape) for shape in bias_shapes]
        self.weights = _check_arrays("weights", weights, weight_shapes)
        self.biases = _check_arrays("biases", biases, bias_shapes)

    # ----------------------------------------------------------------- shape
    @property
    def n_layers(self) -> int:
        """L: the number of weight layers (layer L is the output, identified with layer 0)."""
        return len(self.sizes) - 1

    @property
    def transfer_functions(self) -> tuple[Activation, ...]:
        """f_1..f_L as :class:`Activation` objects."""
        return tuple(get_activation(name) for name in self.activations)

    # ------------------------------------------------------- initialisation
    def initialise(self, rng_or_seed, output_bias=None) -> "CircularAutoencoder":
        """Draw Glorot-uniform weights and zero biases, in place; return ``self``.

        ``output_bias`` (shape ``(N0,)``), if given, becomes ``b^L``.
        """
        rng = _as_rng(rng_or_seed)
        self.weights = [glorot_uniform(rng, *w.shape) for w in self.weights]
        self.biases = [np.zeros_like(b) for b in self.biases]
        if output_bias is not None:
            self.biases[-1] = _check_arrays("output_bias", [output_bias], [self.biases[-1].shape])[0]
        return self

    @classmethod
    def random(cls, sizes, activations, seed=0, data_mean=None) -> "CircularAutoencoder":
        """A Glorot-initialised network; with ``data_mean`` (shape ``(N0,)``) the output
        bias is the pre-image of the (clipped) mean, so the untrained output is the
        data mean (for logistic outputs the logit of the mean clipped to [1e-3, 1-1e-3]).
        """
        net = cls(sizes, activations)
        output_bias = None
        if data_mean is not None:
            mean = _check_arrays("data_mean", [data_mean], [(net.sizes[0],)])[0]
            output_bias = net.transfer_functions[-1].preimage(mean)
        return net.initialise(seed, output_bias=output_bias)

    def copy(self) -> "CircularAutoencoder":
        """An independent deep copy."""
        return CircularAutoencoder(self.sizes, self.activations, self.weights, self.biases)

    # -------------------------------------------------------------- forward
    def check_input(self, x) -> np.ndarray:
        """Return ``x`` as a float array of shape (batch, N0), or raise ConfigError."""
        if np.iscomplexobj(x):
            raise ConfigError("x holds complex numbers; the inputs must be real")
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[1] != self.sizes[0] or x.shape[0] == 0:
            raise ConfigError(
                f"x must have shape (batch, {self.sizes[0]}) with batch >= 1, got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ConfigError("x contains NaN or inf")
        return x

    def preactivation(self, h: int, below: np.ndarray, with_bias: bool = True) -> np.ndarray:
        """S^h = O^{h-1} A^h^T (+ b^h) for a batch ``below`` of shape (batch, N_{h-1})."""
        s = below @ self.weights[h - 1].T
        if with_bias:
            s += self.biases[h - 1]
        return s

    def layer(self, h: int, below: np.ndarray, with_bias: bool = True) -> np.ndarray:
        """O^h = f_h(S^h) for a batch ``below`` of shape (batch, N_{h-1}); shape (batch, N_h)."""
        return get_activation(self.activations[h - 1])(self.preactivation(h, below, with_bias))

    def forward_with_preactivations(self, x) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """([O^0, ..., O^L], [S^1, ..., S^L]) for the batch x of shape (batch, N0)."""
        outputs = [self.check_input(x)]
        preactivations = []
        for h, f in enumerate(self.transfer_functions, start=1):
            preactivations.append(self.preactivation(h, outputs[-1]))
            outputs.append(f(preactivations[-1]))
        return outputs, preactivations

    def forward(self, x) -> list[np.ndarray]:
        """[O^0 = x, O^1, ..., O^L], each of shape (batch, N_h) (Eq. 5, cycle t = 0)."""
        return self.forward_with_preactivations(x)[0]

    def preactivations(self, x) -> list[np.ndarray]:
        """[S^1, ..., S^L], each of shape (batch, N_h)."""
        return self.forward_with_preactivations(x)[1]

    def weight_norms(self) -> np.ndarray:
        """Frobenius norm of each A^h, shape (L,)."""
        return np.array([np.linalg.norm(w) for w in self.weights])

    # ------------------------------------------------------------------ I/O
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The network as the arrays of the weights.npz format (see the module docstring)."""
        arrays = {f"A{h}": w for h, w in enumerate(self.weights, start=1)}
        arrays.update({f"b{h}": b for h, b in enumerate(self.biases, start=1)})
        arrays["sizes"] = np.array(self.sizes, dtype=np.int64)
        arrays["activations"] = np.array(self.activations, dtype=str)
        return arrays

    def save(self, path) -> None:
        """Write the network to ``path`` in the weights.npz format, atomically (an
        interrupted write leaves any previous file intact)."""
        from recirc_analog.fileio import save_npz_atomic

        save_npz_atomic(path, **self.to_arrays())

    @classmethod
    def load(cls, path) -> "CircularAutoencoder":
        """Read a weights.npz file; raise DataError if it is missing, unreadable or inconsistent."""
        path = Path(path)
        from recirc_analog.fileio import load_npz

        try:
            arrays = load_npz(path, "weights file")
        except FileNotFoundError:
            raise DataError(f"weights file {str(path)!r} does not exist") from None
        for key in ("sizes", "activations"):
            if key not in arrays:
                raise DataError(f"weights file {str(path)!r} has no {key!r} array")
        try:
            sizes = [int(n) for n in np.asarray(arrays["sizes"]).reshape(-1)]
            n_layers = len(sizes) - 1
            missing = [k for h in range(1, n_layers + 1) for k in (f"A{h}", f"b{h}") if k not in arrays]
            if missing:
                raise DataError(f"weights file {str(path)!r} lacks arrays {', '.join(missing)}")
            return cls(
                sizes,
                [str(a) for a in np.asarray(arrays["activations"]).reshape(-1)],
                [arrays[f"A{h}"] for h in range(1, n_layers + 1)],
                [arrays[f"b{h}"] for h in range(1, n_layers + 1)],
            )
        except (ConfigError, TypeError, ValueError) as error:
            raise DataError(f"weights file {str(path)!r} is inconsistent: {error}") from None
