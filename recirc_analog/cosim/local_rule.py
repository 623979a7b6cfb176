"""The local update computed from circuit readings only (DESIGN.md §4, Eq. 18 and 23).

For every layer h (layer L's post-synaptic neurons are layer 0's):
``dA^h = eta_h * mean_b[(O^h(n) - O^h(m)) outer O^{h-1}(n)]`` and
``db^h = eta_h * mean_b[O^h(n) - O^h(m)]``; error recirculation uses the
post-synaptic term O^h(1) itself. A synapse needs only its own two neurons'
readings: this is what makes the rule physical.
"""

from __future__ import annotations

import numpy as np

from ..reference.updates import Update, hebbian_update
from ..engines.readings import Readings


def local_update(readings: Readings, mode: str, rates) -> Update:
    """The update of every layer from ``readings``; ``rates`` is eta per layer 1..L, shape (L,)."""
    n_layers = len(readings.held) - 1
    post_layers = list(range(1, n_layers)) + [0]
    if mode == "error":
        posts = [readings.late[k] for k in post_layers]
        pres = readings.held[:-1]
    else:
        posts = [readings.early[k] - readings.late[k] for k in post_layers]
        pres = readings.early[:-1]
    return hebbian_update(posts, pres).scaled(rates)


def relative_difference(a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    """Per layer ||a_h - b_h|| / ||b_h|| (Frobenius), shape (L,); 0 where both are zero."""
    out = []
    for x, y in zip(a, b):
        scale = np.linalg.norm(y)
        diff = np.linalg.norm(x - y)
        out.append(diff / scale if scale > 0 else diff)
    return np.array(out)
