"""Gas-breathing paradigm (air -> O2 or carbogen -> air): the baseline and gas epochs of a dynamic series.

Baseline: every frame before the gas is switched on. Gas epoch: frames from ``gas_on + wash_in``
up to the gas switch-off (or the end), i.e. after the blood and tissue O2 have reached a steady
state; frames inside the wash-in are in neither epoch. The wash-in delay is a choice of the user
(default 60 s; OE-MRI reports take 1-3 min of O2 before the plateau).
"""
from dataclasses import dataclass

import numpy as np

from TMEMonitorLib.errors import InputError, MetadataError

GASES = ("oxygen", "carbogen")
MIN_EPOCH_FRAMES = 2        # a variance (t-test) needs two frames per epoch


@dataclass
class GasParadigm:
    gas_on_s: float = None       # time of the switch to gas, s from the first frame
    gas_off_s: float = None      # time of the switch back to air; None: gas to the end
    wash_in_s: float = 60.0      # frames within this delay after gas_on are left out
    gas: str = "oxygen"

    def validated(self):
        if self.gas not in GASES:
            raise InputError(f"gas '{self.gas}' is not one of {', '.join(GASES)}")
        if self.gas_on_s is None:
            raise MetadataError("gas timing is missing: give the time the gas was switched on (--gas-on, s from "
                                "the first dynamic frame)")
        if not np.isfinite(float(self.gas_on_s)):
            raise InputError(f"gas on: {self.gas_on_s} is not a time in s")
        if self.wash_in_s is None or not float(self.wash_in_s) >= 0:
            raise InputError(f"wash-in delay: {self.wash_in_s} must be a non-negative time in s (--wash-in)")
        if self.gas_off_s is not None and not float(self.gas_off_s) > float(self.gas_on_s):
            raise InputError(f"gas off {self.gas_off_s:g} s is not after gas on {self.gas_on_s:g} s (--gas-off)")
        return self


def gas_epochs(frame_times_s, paradigm):
    """(baseline frame indices, gas frame indices); InputError if timing lies outside the series."""
    paradigm = paradigm.validated()
    t = np.asarray(frame_times_s, dtype=float)
    if t.ndim != 1 or t.size < 2 * MIN_EPOCH_FRAMES or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise InputError("dynamic series: frame times must be increasing and finite, with at least "
                         f"{2 * MIN_EPOCH_FRAMES} frames")
    on = float(paradigm.gas_on_s)
    if not t[0] < on <= t[-1]:
        raise InputError(f"gas on at {on:g} s lies outside the series ({t[0]:g} to {t[-1]:g} s) (--gas-on)")
    off = t[-1] + 1.0 if paradigm.gas_off_s is None else float(paradigm.gas_off_s)
    if paradigm.gas_off_s is not None and off > t[-1] + 1e-9:
        raise InputError(f"gas off at {off:g} s lies after the last frame ({t[-1]:g} s) (--gas-off)")
    baseline = np.flatnonzero(t < on)
    gas = np.flatnonzero((t >= on + float(paradigm.wash_in_s)) & (t < off))
    if baseline.size < MIN_EPOCH_FRAMES:
        raise InputError(f"baseline (air) epoch: {baseline.size} frame(s) before the gas at {on:g} s; "
                         f"at least {MIN_EPOCH_FRAMES} are needed (--gas-on)")
    if gas.size < MIN_EPOCH_FRAMES:
        raise InputError(f"gas epoch: {gas.size} frame(s) between gas on + wash-in ({on + paradigm.wash_in_s:g} s) and "
                         f"gas off ({min(off, t[-1]):g} s); at least {MIN_EPOCH_FRAMES} are needed (--wash-in, --gas-off)")
    return baseline, gas
