"""Apodisation (line broadening) of the FID.

exponential: exp(-pi lb t), which widens a Lorentzian line by ``line_broadening_hz`` (FWHM);
gaussian: exp(-(pi lb t)^2 / (4 ln 2)), a Gaussian line shape of FWHM ``line_broadening_hz``
convolved with the spectrum.
"""
import numpy as np

from TMEMonitorLib.errors import InputError

from .data_axes import checked_fid
from .spectral_axes import time_axis
from .step_record import checked_number, make_step, result

SHAPES = ("exponential", "gaussian")


def apodise(mrs, line_broadening_hz, shape="exponential"):
    """Multiply every FID of ``mrs`` by an exponential or Gaussian window of ``line_broadening_hz``."""
    what = "apodisation"
    fid = checked_fid(mrs, what)
    lb = checked_number(line_broadening_hz, "line_broadening_hz (Hz)", what, 0.0)
    if shape not in SHAPES:
        raise InputError(f"{what}: shape '{shape}' unknown; choose from {', '.join(SHAPES)}")
    t = time_axis(fid.shape[-1], mrs.dwell_s)
    if shape == "exponential":
        window = np.exp(-np.pi * lb * t)
    else:
        window = np.exp(-(np.pi * lb * t) ** 2 / (4 * np.log(2)))
    step = make_step("Apodization", f"{shape} window, {lb:g} Hz line broadening", shape=shape,
                     line_broadening_hz=lb)
    return result(mrs, fid * window, step)


