"""Pulsed-device presets fitted to the compact models' pulse responses measured in ngspice.

The numbers are the best fits of ``studies/memristor-fit/results/fits.json``, written by
``nice -n 10 .venv/bin/python studies/memristor-fit/run.py`` (see that folder's REPORT.md for
the measurement and the fit quality); ``tests/test_memristor_fit.py`` checks they are the
file's numbers and that they reproduce a fresh ngspice measurement. Steps are relative to the
crossbar's window (the compact model's own range, VTEAM 1 to 20 mS, Yakopcic 0 to 8.5 mS,
is not carried over); the devices are deterministic, as the compact models are (no noise,
no device-to-device spread, no drift).

Programming: stochastic pulse coincidence of 31 slots (Gokmen & Vlasov 2016, as the
``reram-hfo2`` / ``reram-es`` presets). The fitted nominal steps are coarse (0.029 and 0.32
of the range), so deterministic rounding turns every small request into no pulse at all:
``recirc-analog train --sizes 16,4,16 --data lowrank --epochs 3 --device yakopcic-fit`` ends
at loss 30.0 with it and at 11.9 with stochastic pulses (``vteam-fit``: 30.0 and 25.4;
no device: 6e-7).
"""

from __future__ import annotations

from ..programming import OpenLoopPulses
from ..pulsed import PulsedDevice
from ..steps import ExponentialStep, PowerStep


def vteam_fit() -> PulsedDevice:
    """VTEAM (circuits/memristors/vteam.lib; Kvatinsky et al. 2015, MemTorch's parameters) under
    its nominal pulses, 1 ns at -0.22 V (up, towards R_on) and +0.5 V (down), read at 10 mV.

    Exponential step (a = 1, b = 0), fitted to 400 + 400 pulses: replayed conductance within
    0.066 of the range RMS, 0.30 at worst. VTEAM's state moves by a near-constant amount per
    pulse while its conductance is 1 / R(x), so both the up and the down step grow steeply with
    the conductance; no step shape of devices/steps.py grows both ways, and the fit crosses
    the top quarter of the range (0.75 to 0.99) in one up pulse where VTEAM takes 54.
    """
    return PulsedDevice(
        step=ExponentialStep(dw_min=0.31613638672302935, up_down=-0.9972855285810013, a=1.0, b=0.0,
                             gamma_up=11.807131171137316, gamma_down=0.038642258085610066,
                             A_up=-291.4028951552945, A_down=0.9633519724790754),
        programming=OpenLoopPulses(stochastic=True, bit_length=31))


def yakopcic_fit() -> PulsedDevice:
    """Yakopcic (circuits/memristors/yakopcic.lib; Yakopcic et al. 2011, the Oblea Ag-chalcogenide
    device) under its nominal pulses, 10 us at +0.5 V (up) and -0.5 V (down), read at 0.1 V.

    Power step, fitted to 400 + 400 pulses: replayed conductance within 0.013 of the range RMS,
    0.074 at worst; up steps 1.43 times smaller than down steps at the opposite bound
    (up_down -0.18) and more strongly damped towards the low bound (gamma 1.76 against 1.20).
    """
    return PulsedDevice(
        step=PowerStep(dw_min=0.02944146152478938, up_down=-0.17751824557516582,
                       gamma_up=1.201405547384883, gamma_down=1.761408686419514),
        programming=OpenLoopPulses(stochastic=True, bit_length=31))


COMPACT_PRESETS = {"vteam-fit": vteam_fit, "yakopcic-fit": yakopcic_fit}
"""Preset name -> function (added to :data:`recirc_analog.devices.presets.DEVICE_PRESETS`)."""
