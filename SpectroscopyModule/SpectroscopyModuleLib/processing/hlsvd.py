"""Residual water (nuisance peak) removal by HLSVD.

The FID is modelled as a sum of K damped complex exponentials c_k z_k^j (Barkhuijsen H et al.,
J Magn Reson 1987;73:553, doi:10.1016/0022-2364(87)90023-0; Lanczos variant Pijnappel WWF et al.,
J Magn Reson 1992;97:122): the first K left singular vectors U of the L x M Hankel matrix of the
first ``n_fit_points`` points span the signal space; their shift invariance U[1:] ~ U[:-1] Z gives
the poles z_k as the eigenvalues of Z (Kung's state-space method). Amplitudes are the linear
least-squares fit of the poles to the whole FID; the components whose frequency lies in
``ppm_range`` are subtracted. One SVD per FID (the only per-voxel loop of the package).
"""
import numpy as np
import scipy.linalg

from TMEMonitorLib.errors import InputError

from .data_axes import checked_fid
from .spectral_axes import ppm_reference
from .step_record import make_step, result, summary


def hlsvd(fid, n_components=25, n_fit_points=1024):
    """Poles (z) and complex amplitudes of ``n_components`` exponentials fitted to one FID.

    The model is sum_k amplitude_k * z_k ** j for j = 0..n-1; growing poles are put on the unit
    circle so the model stays bounded over the whole FID."""
    fid = np.asarray(fid, dtype=complex)
    n = fid.size
    m = min(int(n_fit_points), n)
    rows = m // 2
    k = int(min(n_components, rows - 1, m - rows))
    if k < 1:
        raise InputError(f"HLSVD: {n} points are too few for {n_components} components")
    hankel = scipy.linalg.hankel(fid[:rows], fid[rows - 1:m])
    u, _, _ = scipy.linalg.svd(hankel, full_matrices=False, check_finite=False, lapack_driver="gesdd")
    uk = u[:, :k]
    z_matrix = np.linalg.lstsq(uk[:-1], uk[1:], rcond=None)[0]
    poles = np.linalg.eigvals(z_matrix)
    magnitude = np.abs(poles)
    poles = np.where(magnitude > 1.0, poles / np.where(magnitude > 0, magnitude, 1.0), poles)
    basis = np.power.outer(poles, np.arange(n)).T                      # (n, k)
    amplitudes = np.linalg.lstsq(basis, fid, rcond=None)[0]
    return poles, amplitudes


def hlsvd_water_removal(mrs, ppm_range=(4.2, 5.2), n_components=25, n_fit_points=1024):
    """Subtract the HLSVD components with a frequency in ``ppm_range`` from every FID of ``mrs``."""
    what = "HLSVD water removal"
    fid = checked_fid(mrs, what)
    try:
        low, high = sorted(float(v) for v in ppm_range)
    except (TypeError, ValueError):
        raise InputError(f"{what}: ppm_range must be two numbers (got {ppm_range!r})") from None
    if int(n_components) < 1:
        raise InputError(f"{what}: n_components must be at least 1 (got {n_components})")
    if int(n_fit_points) < 16:
        raise InputError(f"{what}: n_fit_points must be at least 16 (got {n_fit_points})")
    dwell, mhz, ref = float(mrs.dwell_s), float(mrs.spectrometer_mhz), ppm_reference(mrs)
    n = fid.shape[-1]
    flat = fid.reshape(-1, n)
    out = flat.copy()
    j = np.arange(n)
    removed = np.zeros(flat.shape[0], int)
    for index, x in enumerate(flat):
        if not np.any(x):
            continue
        poles, amplitudes = hlsvd(x, n_components, n_fit_points)
        ppm = ref - np.angle(poles) / (2 * np.pi * dwell) / mhz
        selected = (ppm >= low) & (ppm <= high)
        if selected.any():
            out[index] = x - np.power.outer(poles[selected], j).T @ amplitudes[selected]
            removed[index] = int(selected.sum())
    details = (f"HLSVD (Barkhuijsen 1987, Pijnappel 1992) with {int(n_components)} components on the first "
               f"{min(int(n_fit_points), n)} points; components at {low:g}-{high:g} ppm subtracted "
               f"({summary(removed, 'per FID', 1)})")
    step = make_step("Nuisance peak removal", details, ppm_range=[low, high], n_components=int(n_components))
    return result(mrs, out.reshape(fid.shape), step)


