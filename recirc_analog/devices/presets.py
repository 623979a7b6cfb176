"""Device presets: functions returning records, each citing where its numbers come from.

The published numbers are relative (fractions of a weight range, unitless
exponents, seconds); they map onto SI through the crossbar's conductance
window when the record is built. Where a source states a parameter on a
weight range ``[w_min, w_max]``, a step ``dw`` becomes ``dw / (w_max - w_min)``
of the window span here. :data:`DEVICE_PRESETS` is the registry the command
line lists (``--device PRESET``).
"""

from __future__ import annotations

from .compact.presets import COMPACT_PRESETS
from .drift import Drift
from .parameters import ideal, reram_like
from .programming import OpenLoopPulses
from .pulsed import DeviceSpread, PulsedDevice
from .steps import ExponentialStep, LinearStep, soft_bounds_step


def reram_hfo2() -> PulsedDevice:
    """An HfO2 ReRAM synapse (measured array): soft bounds, few coarse states, wide spreads.

    Source: Gong, Rasch et al., "Deep learning acceleration in 14nm CMOS compatible
    ReRAM array: device, material and algorithm co-optimization", IEDM 2022, the
    "baseline HfO2" array, as fitted by IBM aihwkit's ``ReRamArrayHfO2PresetDevice``
    (soft bounds on the compliance-adjusted range [-1, 1]): dw_min 0.4622 of a range
    of 2 (0.2311 of the span; the step at mid-range), device-to-device spread of the
    step 0.7125 (log-normal, as here), of the asymmetry 0.01, of the bounds
    0.4295 / 0.5990 of |w_max| / |w_min| (here 0.25 of the span, shrinking each
    end); cycle-to-cycle noise 0.2174 of the step. Not modelled: its additive
    write noise (0.58 steps) and the reference device that subtracts the symmetry
    point; its ~10 % corrupt devices are left at 0 there as here (``stuck_*``).
    """
    return PulsedDevice(
        step=soft_bounds_step(dw_min=0.4622 / 2, up_down=0.0),
        dw_min_std=0.2174,
        spread=DeviceSpread(dw_min=0.7125, up_down=0.01, bounds=0.25),
        programming=OpenLoopPulses(stochastic=True, bit_length=31))


def reram_es() -> PulsedDevice:
    """A ReRAM synapse with an exponential step and strong up/down asymmetry.

    Source: Gong et al., "Signal and noise extraction from analog memory
    elements for neuromorphic computing", Nat. Commun. 9, 2102 (2018), as fitted
    by IBM aihwkit's ``ReRamESPresetDevice`` (exponential step on the weight
    range [-1, 1], which is this module's centred position): dw_min 0.00135 of a
    range of 2 (6.75e-4 of the span), up_down 0.259, a = b = -0.5, gamma 5 both
    ways, A_up -1.18445, A_down -0.081404; device-to-device spread of the step
    0.2, of the asymmetry 0.05, of the bounds 0.3 of w_max (0.15 of the span);
    cycle-to-cycle noise 5.0 times the step. Stochastic pulse trains of 31
    slots, as in the aihwkit preset's update (Gokmen & Vlasov 2016).
    """
    return PulsedDevice(
        step=ExponentialStep(dw_min=0.00135 / 2, up_down=0.259359, a=-0.5, b=-0.5, gamma_up=5.0,
                             gamma_down=5.0, A_up=-1.18445, A_down=-0.081404),
        dw_min_std=5.0,
        spread=DeviceSpread(dw_min=0.2, up_down=0.05, bounds=0.15),
        programming=OpenLoopPulses(stochastic=True, bit_length=31))


def pcm() -> PulsedDevice:
    """A Ge2Sb2Te5 phase-change memory synapse: exponential step, drift and read noise.

    Step: Nandakumar et al., "Mixed-precision deep learning based on
    computational memory", Front. Neurosci. 14, 406 (2020), as fitted by IBM
    aihwkit's ``PCMPresetDevice`` (exponential step on [0, 2]): dw_min 0.01
    (0.005 of the span), a = -1, b = 0 there (b = -1 for this module's centred
    position), gamma 2.5 both ways, A_up -27.235, A_down -2.235; spread of the
    step 0.2, of the asymmetry 0.05, of the bounds 0.1; cycle-to-cycle noise 0.6
    of the step. (Real PCM is programmed SET-only with occasional RESET; here both
    directions are pulsed with the fitted shapes.)
    Drift and read noise: Nandakumar et al., ICECS 2019 (the PCM model of
    aihwkit's ``PCMLikeNoiseModel``): drift exponents of mean
    -0.0155 ln(G/G_max) + 0.0244 clipped to [0.049, 0.1] and standard deviation
    -0.0125 ln(G/G_max) - 0.0059 clipped to [0.008, 0.045], t0 = 20 s; here the
    conductance-independent mid-range values 0.05 and 0.01. Read noise: the 1/f
    amplitude 0.0088 (G/G_max)^-0.65 of that model is about 0.014 of G at
    G_max / 2, here 0.01 of the span per read.
    """
    return PulsedDevice(
        step=ExponentialStep(dw_min=0.01 / 2, up_down=0.0, a=-1.0, b=-1.0, gamma_up=2.5, gamma_down=2.5,
                             A_up=-27.235, A_down=-2.235),
        dw_min_std=0.6,
        spread=DeviceSpread(dw_min=0.2, up_down=0.05, bounds=0.1),
        read_noise=0.01,
        drift=Drift(nu_mean=0.05, nu_std=0.01, t0=20.0),
        programming=OpenLoopPulses(stochastic=False))


def ecram() -> PulsedDevice:
    """A lithium-based ECRAM synapse: nearly linear, fine steps.

    Source: Tang et al., "ECRAM as scalable synaptic cell for high-speed,
    low-power neuromorphic computing", IEDM 2018, as fitted by IBM aihwkit's
    ``EcRamPresetDevice`` (linear step on a range of 2): dw_min 0.002 (0.001 of
    the span), gamma_up 0.1153, gamma_down 0.5085; spread of the step 0.1, of the
    asymmetry 0.01, of the bounds 0.05 of w_max (0.025 of the span), of the
    slopes 0.05; cycle-to-cycle noise 0.3 of the step.
    """
    return PulsedDevice(
        step=LinearStep(dw_min=0.002 / 2, up_down=0.0, gamma_up=0.1153, gamma_down=0.5085),
        dw_min_std=0.3,
        spread=DeviceSpread(dw_min=0.1, up_down=0.01, gamma=0.05, bounds=0.025),
        programming=OpenLoopPulses(stochastic=False))


DEVICE_PRESETS = {
    "ideal": ideal,
    "reram-like": reram_like,
    "reram-hfo2": reram_hfo2,
    "reram-es": reram_es,
    "pcm": pcm,
    "ecram": ecram,
    **COMPACT_PRESETS,      # vteam-fit, yakopcic-fit: memristor compact models measured in ngspice (issue 13)
}
"""Preset name -> function returning its record (``--device PRESET``)."""
