"""Density-matrix simulation of spin-1/2 systems under ideal-pulse MRS sequences.

Model
- Hamiltonian in the rotating frame of the receiver (reference ``WATER_PPM``), in rad/s:
  H = 2 pi sum_i nu_i Iz_i + 2 pi sum_{i<j} J_ij I_i.I_j (full scalar coupling, so strongly
  coupled systems such as citrate are exact) + 2 pi sum J_iP Iz_i Iz_P for a 31P partner
  (heteronuclear, weak coupling; 31P is never pulsed or detected).
- Pulses are ideal, instantaneous rotations exp(-i theta F_phi) of all protons.
- Free evolution by exact diagonalisation of H (done once per spin group).
- Coherence-transfer pathways are selected as crusher gradients would, by keeping only the
  density-matrix elements of the wanted coherence order p = M_r - M_s after each pulse:
    PRESS    90 -[TE1/2]- 180 -[TE1/2+TE2/2]- 180 -[TE2/2]- acq     p: -1, +1, -1
    STEAM    90 -[TE/2]- 90 -[TM]- 90 -[TE/2]- acq                 p: +1, 0, -1  (half signal)
    sLASER   90 -[TE/8]- 180 -[TE/4]- 180 -[TE/4]- 180 -[TE/4]- 180 -[TE/8]- acq
             (the two pairs of adiabatic refocusing pulses modelled as ideal 180s in a
             CPMG-like train with equal TE/4 spacing; slice profiles and the adiabatic
             phase are not modelled)                                p: -1, +1, -1, +1, -1
    FID      90 - acq (pulse-acquire)
- Detection: s(t) = Tr[rho(t) F+]; the returned lines follow the NIfTI-MRS convention
  (fid = sum a_k exp(+i 2 pi f_k t), ppm = 4.65 - f / MHz), i.e. the complex conjugate of s.
  A receiver phase, fixed per sequence from an uncoupled on-resonance spin, makes singlets
  absorptive and positive; amplitudes are per proton (one proton, pulse-acquire -> 1).
"""
from functools import lru_cache

import numpy as np

from TMEMonitorLib.errors import InputError

from .spin_systems import WATER_PPM

SEQUENCES = ("PRESS", "STEAM", "sLASER", "FID")
MAX_SPINS = 9  # protons + 31P; 2**9 = 512 states keeps memory and time small

_PAULI_X = np.array([[0, 1], [1, 0]], dtype=complex) / 2
_PAULI_Y = np.array([[0, -1j], [1j, 0]], dtype=complex) / 2
_PAULI_Z = np.array([[1, 0], [0, -1]], dtype=complex) / 2


def normalise_sequence(sequence):
    key = str(sequence).strip().upper().replace("-", "").replace("_", "")
    for name in SEQUENCES:
        if key == name.upper() or (key in ("SEMILASER", "SLASER") and name == "sLASER") \
                or (key in ("PULSEACQUIRE", "FID") and name == "FID"):
            return name
    raise InputError(f"sequence '{sequence}' is not supported; use one of {', '.join(SEQUENCES)}")


@lru_cache(maxsize=16)
def _operators(n_spins):
    """Single-spin operators Ix, Iy, Iz (each n_spins x d x d) in the Zeeman product basis."""
    d = 2 ** n_spins
    ops = np.zeros((3, n_spins, d, d), dtype=complex)
    eye = np.eye(2)
    for k in range(n_spins):
        for a, pauli in enumerate((_PAULI_X, _PAULI_Y, _PAULI_Z)):
            mat = np.array([[1.0]])
            for j in range(n_spins):
                mat = np.kron(mat, pauli if j == k else eye)
            ops[a, k] = mat
    ops.setflags(write=False)
    return ops


def _rotation(n_protons, n_total, angle_rad, phase_rad):
    """exp(-i angle (cos phase Fx + sin phase Fy)) on the protons, identity on 31P."""
    c, s = np.cos(angle_rad / 2), np.sin(angle_rad / 2)
    r = np.array([[c, -1j * s * np.exp(-1j * phase_rad)],
                  [-1j * s * np.exp(1j * phase_rad), c]])
    mat = np.array([[1.0 + 0j]])
    for k in range(n_total):
        mat = np.kron(mat, r if k < n_protons else np.eye(2))
    return mat


class _SpinSystem:
    """Hamiltonian eigenbasis and helpers for one spin group at one field."""

    def __init__(self, group, spectrometer_mhz, reference_ppm):
        self.n_protons = group.n_protons
        self.n_total = self.n_protons + (1 if group.phosphorus_hz else 0)
        if self.n_total > MAX_SPINS:
            raise InputError(f"spin group with {self.n_total} spins exceeds the simulator limit "
                             f"of {MAX_SPINS}; split it into uncoupled groups")
        ix, iy, iz = _operators(self.n_total)
        two_pi = 2 * np.pi
        h = np.zeros_like(ix[0])
        for i, ppm in enumerate(group.shifts_ppm):
            h += two_pi * (ppm - reference_ppm) * spectrometer_mhz * iz[i]
        for i, j, coupling in group.couplings_hz:
            h += two_pi * coupling * (ix[i] @ ix[j] + iy[i] @ iy[j] + iz[i] @ iz[j])
        phosphorus = self.n_total - 1
        for i, coupling in group.phosphorus_hz:
            h += two_pi * coupling * (iz[i] @ iz[phosphorus])
        self.energies, self.vectors = np.linalg.eigh(h)
        self.d = h.shape[0]
        proton_m = np.real(np.diagonal(iz[:self.n_protons].sum(axis=0)))
        self.coherence = proton_m[:, None] - proton_m[None, :]
        self.fz = iz[:self.n_protons].sum(axis=0)
        self.f_plus = (ix[:self.n_protons] + 1j * iy[:self.n_protons]).sum(axis=0)

    def to_eigen(self, op):
        return self.vectors.conj().T @ op @ self.vectors

    def from_eigen(self, op):
        return self.vectors @ op @ self.vectors.conj().T

    def evolve(self, rho_eigen, t):
        phase = np.exp(-1j * self.energies * t)
        return rho_eigen * phase[:, None] * phase.conj()[None, :]


def _sequence_steps(sequence, te_s, te1_s, tm_s):
    """(delay before pulse, flip deg, phase deg, coherence order kept after the pulse) and final delay."""
    if sequence == "FID":
        return [], 0.0
    if sequence == "PRESS":
        te1 = te_s / 2 if te1_s is None else te1_s
        te2 = te_s - te1
        if te1 < 0 or te2 < 0:
            raise InputError(f"PRESS TE1 ({te1_s} s) must lie between 0 and TE ({te_s} s)")
        return [(te1 / 2, 180.0, 90.0, +1), (te1 / 2 + te2 / 2, 180.0, 90.0, -1)], te2 / 2
    if sequence == "STEAM":
        return [(te_s / 2, 90.0, 0.0, 0), (tm_s, 90.0, 0.0, -1)], te_s / 2
    if sequence == "sLASER":
        q = te_s / 4
        return [(q / 2, 180.0, 90.0, +1), (q, 180.0, 90.0, -1),
                (q, 180.0, 90.0, +1), (q, 180.0, 90.0, -1)], q / 2
    raise InputError(f"unknown sequence {sequence}")


def _first_order(sequence):
    return +1 if sequence == "STEAM" else -1


def _raw_lines(system, sequence, te_s, te1_s, tm_s):
    """Transition frequencies (Hz, NIfTI-MRS convention) and complex amplitudes per proton."""
    rho = system.fz.copy()
    rho = _rotation(system.n_protons, system.n_total, np.pi / 2, 0.0) @ rho \
        @ _rotation(system.n_protons, system.n_total, np.pi / 2, 0.0).conj().T
    rho = np.where(system.coherence == _first_order(sequence), rho, 0)
    rho_e = system.to_eigen(rho)
    steps, final_delay = _sequence_steps(sequence, te_s, te1_s, tm_s)
    for delay, flip, phase, order in steps:
        rho_e = system.evolve(rho_e, delay)
        rot = _rotation(system.n_protons, system.n_total, np.deg2rad(flip), np.deg2rad(phase))
        rho = rot @ system.from_eigen(rho_e) @ rot.conj().T
        rho = np.where(system.coherence == order, rho, 0)
        rho_e = system.to_eigen(rho)
    rho_e = system.evolve(rho_e, final_delay)
    f_plus_e = system.to_eigen(system.f_plus)
    amplitudes = rho_e * f_plus_e.T                # A_ab = rho_ab F+_ba
    omega = system.energies[:, None] - system.energies[None, :]
    # s(t) = sum A exp(-i omega t); the NIfTI-MRS fid is conj(s) = sum conj(A) exp(+i omega t)
    scale = system.d / 4.0                          # Tr[Ix Ix] over the full space
    return omega.ravel() / (2 * np.pi), np.conj(amplitudes.ravel()) / scale


@lru_cache(maxsize=32)
def receiver_phase(sequence, te_s, te1_s, tm_s):
    """Phase (rad) that makes an uncoupled on-resonance proton absorptive and positive."""
    from .spin_systems import SpinGroup
    system = _SpinSystem(SpinGroup((WATER_PPM,)), 100.0, WATER_PPM)
    _, amps = _raw_lines(system, sequence, te_s, te1_s, tm_s)
    return float(np.angle(amps.sum()))


def simulate_group_lines(group, spectrometer_mhz, sequence="PRESS", te_s=0.030, te1_s=None,
                         tm_s=0.010, reference_ppm=WATER_PPM, tol=1e-7):
    """Line list of one spin group: (frequencies Hz, complex amplitudes) in the NIfTI-MRS
    convention, scaled by ``group.scale``; near-identical frequencies are merged."""
    sequence = normalise_sequence(sequence)
    if spectrometer_mhz <= 0 or not np.isfinite(spectrometer_mhz):
        raise InputError(f"spectrometer frequency must be positive (got {spectrometer_mhz} MHz)")
    if te_s < 0 or (sequence == "STEAM" and tm_s < 0):
        raise InputError(f"echo/mixing times must be non-negative (TE {te_s} s, TM {tm_s} s)")
    system = _SpinSystem(group, float(spectrometer_mhz), reference_ppm)
    freqs, amps = _raw_lines(system, sequence, te_s, te1_s, tm_s)
    amps = amps * np.exp(-1j * receiver_phase(sequence, te_s, te1_s, tm_s)) * group.scale
    keep = np.abs(amps) > tol * max(np.abs(amps).max(), 1e-300)
    freqs, amps = freqs[keep], amps[keep]
    # merge degenerate transitions (equivalent spins give many identical frequencies)
    key = np.round(freqs, 6)
    unique, inverse = np.unique(key, return_inverse=True)
    merged = np.zeros(unique.shape, dtype=complex)
    np.add.at(merged, inverse, amps)
    keep = np.abs(merged) > tol * max(np.abs(merged).max(), 1e-300)
    return unique[keep], merged[keep]


def lines_to_fid(frequencies_hz, amplitudes, n_points, dwell_s, linewidth_hz=0.0):
    """FID sum_k a_k exp(i 2 pi f_k t) exp(-pi lw t) at t = 0, dwell, ..."""
    t = np.arange(int(n_points)) * float(dwell_s)
    fid = np.zeros(t.shape, dtype=complex)
    chunk = 512
    for start in range(0, len(frequencies_hz), chunk):
        f = np.asarray(frequencies_hz[start:start + chunk])
        a = np.asarray(amplitudes[start:start + chunk])
        fid += np.exp(2j * np.pi * t[:, None] * f[None, :]) @ a
    if linewidth_hz:
        fid *= np.exp(-np.pi * linewidth_hz * t)
    return fid
