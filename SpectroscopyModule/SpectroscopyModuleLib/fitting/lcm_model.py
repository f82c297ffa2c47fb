"""Linear-combination model of an MR spectrum, evaluated for many voxels at once.

Model (frequency domain, over the fit range, in the data's NIfTI-MRS convention):
    S(ppm) = exp(i (phi0 + phi1 (ppm - pivot))) [ sum_m a_m FT{ b_m(t) D(t) exp(-i 2 pi s_m t) }
                                                  + baseline(ppm) ]
    D(t)   = exp(-pi lwL t - gamma (pi t)^2 / (4 ln 2))     (Voigt: Lorentzian FWHM lwL Hz,
                                                              Gaussian FWHM sqrt(gamma) Hz)
    s_m    = shift + group_shift[group(m)]   (Hz; positive moves lines to higher ppm)
with a_m >= 0 and a smooth complex baseline (cubic B-splines or a polynomial in ppm).
Amplitudes and baseline are linear and solved exactly for given nonlinear parameters
(variable projection): the baseline is projected out, then a batched NNLS gives a.
The Jacobian of the projected residual uses Kaufman's approximation (amplitudes held at
their optimum, column space of the active basis projected out).

The Gaussian width is parametrised by gamma = lwG^2 so that its derivative at 0 is not 0.
"""
import numpy as np

from TMEMonitorLib.errors import InputError

from .baseline import baseline_design
from .nnls import nnls_batched, solve_on_passive_set

_LN2 = np.log(2.0)
NONLINEAR = ("phase0", "phase1", "shift", "lorentz", "gauss2")


class CombinationModel:
    """Basis preprocessing shared by every voxel of a fit (FIDs, fit range, baseline, bounds)."""

    def __init__(self, basis, n_points, dwell_s, spectrometer_mhz, ppm_range=(0.2, 4.2),
                 baseline="spline", baseline_knot_spacing_ppm=1.0, baseline_order=3,
                 shift_groups=None, lineshape="voigt", fit_phase1=True,
                 max_shift_ppm=0.1, max_group_shift_ppm=0.03, max_linewidth_hz=40.0,
                 max_phase1_deg_per_ppm=30.0, ppm_reference=None):
        self.names = list(basis.names)
        self.fids = basis.as_array(self.names)
        self.n_points = int(n_points)
        self.dwell_s = float(dwell_s)
        self.mhz = float(spectrometer_mhz)
        self.t = np.arange(self.n_points) * self.dwell_s
        ref = basis.ppm_reference if ppm_reference is None else ppm_reference
        freqs = np.fft.fftshift(np.fft.fftfreq(self.n_points, self.dwell_s))
        self.ppm_full = ref - freqs / self.mhz
        lo, hi = sorted(float(v) for v in ppm_range)
        self.ppm_range = (lo, hi)
        self.idx = np.flatnonzero((self.ppm_full >= lo) & (self.ppm_full <= hi))
        if self.idx.size < 16:
            raise InputError(f"ppm_range {ppm_range} holds only {self.idx.size} spectral points "
                             f"(spectral window {self.ppm_full.min():.2f}..{self.ppm_full.max():.2f} ppm)")
        self.raw_idx = (self.idx - self.n_points // 2) % self.n_points  # position in unshifted FFT
        self.ppm = self.ppm_full[self.idx]
        self.pivot = 0.5 * (lo + hi)
        self.K = self.idx.size
        self.M = len(self.names)
        design = baseline_design(self.ppm, baseline, baseline_knot_spacing_ppm, baseline_order)
        if design.shape[1]:
            q, _ = np.linalg.qr(design)
            self.qb = q
        else:
            self.qb = np.zeros((self.K, 0))
        # shift groups: metabolite -> group index
        shift_groups = dict(shift_groups or {})
        self.groups = list(shift_groups)
        self.group_of = -np.ones(self.M, int)
        for g, members in enumerate(shift_groups.values()):
            for name in members:
                if name not in self.names:
                    raise InputError(f"shift group member '{name}' is not in the basis ({', '.join(self.names)})")
                self.group_of[self.names.index(name)] = g
        self.param_names = list(NONLINEAR) + [f"shift_{g}" for g in self.groups]
        n_par = len(self.param_names)
        deg = np.pi / 180.0
        self.lower = np.full(n_par, -np.inf)
        self.upper = np.full(n_par, np.inf)
        self.lower[1], self.upper[1] = -max_phase1_deg_per_ppm * deg, max_phase1_deg_per_ppm * deg
        self.lower[2], self.upper[2] = -max_shift_ppm * self.mhz, max_shift_ppm * self.mhz
        self.lower[3], self.upper[3] = 0.0, max_linewidth_hz
        self.lower[4], self.upper[4] = 0.0, max_linewidth_hz ** 2
        self.lower[5:], self.upper[5:] = -max_group_shift_ppm * self.mhz, max_group_shift_ppm * self.mhz
        self.free = np.ones(n_par, bool)
        self.free[1] = bool(fit_phase1)
        if lineshape not in ("voigt", "lorentzian", "gaussian"):
            raise InputError(f"lineshape must be 'voigt', 'lorentzian' or 'gaussian' (got {lineshape!r})")
        self.lineshape = lineshape
        self.free[3] = lineshape != "gaussian"
        self.free[4] = lineshape != "lorentzian"
        self.default_theta = np.array([0.0, 0.0, 0.0, 3.0 if self.free[3] else 0.0,
                                       9.0 if self.free[4] else 0.0] + [0.0] * len(self.groups))

    # ------------------------------------------------------------------ model pieces
    def data_spectrum(self, fids):
        """fftshift(fft(fid)) restricted to the fit range, (V, K)."""
        return np.fft.fft(fids, axis=-1)[:, self.raw_idx]

    def _decay(self, theta):
        t = self.t[None, :]
        return np.exp(-np.pi * theta[:, 3:4] * t - theta[:, 4:5] * (np.pi * t) ** 2 / (4 * _LN2))

    def _shifts(self, theta):
        """Per-voxel, per-metabolite shift (V, M) in Hz."""
        s = np.repeat(theta[:, 2:3], self.M, axis=1)
        for g in range(len(self.groups)):
            s[:, self.group_of == g] += theta[:, 5 + g:6 + g]
        return s

    def modulated_fids(self, theta):
        decay = self._decay(theta)                                      # (V, N)
        rot = np.exp(-2j * np.pi * self._shifts(theta)[:, :, None] * self.t[None, None, :])
        return self.fids[None] * decay[:, None, :] * rot                 # (V, M, N)

    def columns(self, theta):
        """Basis spectra after shift/broadening, over the fit range: (V, M, K)."""
        return np.fft.fft(self.modulated_fids(theta), axis=-1)[..., self.raw_idx]

    def phase(self, theta):
        return theta[:, 0:1] + theta[:, 1:2] * (self.ppm[None, :] - self.pivot)

    # ------------------------------------------------------------------ linear solve
    @staticmethod
    def stack(z):
        return np.concatenate([z.real, z.imag], axis=-1) if z.ndim == 2 else \
            np.concatenate([z.real, z.imag], axis=-2)

    def project(self, x):
        """Remove the baseline subspace from stacked real vectors (..., 2K[, P])."""
        if not self.qb.shape[1]:
            return x
        k = self.K
        vector = x.ndim == 2
        if vector:
            x = x[..., None]
        parts = []
        for part in (x[:, :k], x[:, k:]):
            parts.append(part - np.einsum("kl,vlp->vkp", self.qb, np.einsum("kl,vkp->vlp", self.qb, part)))
        out = np.concatenate(parts, axis=1)
        return out[..., 0] if vector else out

    def solve(self, theta, y):
        """Amplitudes, baseline and projected residual for given nonlinear parameters."""
        cols = self.columns(theta)
        yp = y * np.exp(-1j * self.phase(theta))
        a_stack = self.project(self.stack(np.swapaxes(cols, 1, 2)))     # (V, 2K, M)
        y_stack = self.project(self.stack(yp))                           # (V, 2K)
        gram = np.einsum("vkm,vkn->vmn", a_stack, a_stack)
        rhs = np.einsum("vkm,vk->vm", a_stack, y_stack)
        amps, passive = nnls_batched(gram, rhs)
        resid = y_stack - np.einsum("vkm,vm->vk", a_stack, amps)
        return dict(cols=cols, yp=yp, a_stack=a_stack, gram=gram, amps=amps, passive=passive,
                    resid=resid)

    def baseline(self, state):
        """Baseline spectrum (V, K) in the phased frame."""
        if not self.qb.shape[1]:
            return np.zeros_like(state["yp"])
        r = state["yp"] - np.einsum("vmk,vm->vk", state["cols"], state["amps"])
        coef_re = r.real @ self.qb
        coef_im = r.imag @ self.qb
        return coef_re @ self.qb.T + 1j * (coef_im @ self.qb.T)

    # ------------------------------------------------------------------ derivatives
    def model_derivatives(self, theta, amps):
        """d(sum_m a_m A_m)/d(theta_p) for p >= 2 (shift, lorentz, gauss2, group shifts): (V, K, P-2)."""
        mod = self.modulated_fids(theta) * amps[:, :, None]              # (V, M, N)
        total = mod.sum(axis=1)
        t = self.t[None, :]
        derivs = [total * (-2j * np.pi * t), total * (-np.pi * t), total * (-(np.pi * t) ** 2 / (4 * _LN2))]
        for g in range(len(self.groups)):
            derivs.append(mod[:, self.group_of == g].sum(axis=1) * (-2j * np.pi * t))
        d = np.fft.fft(np.stack(derivs, axis=1), axis=-1)[..., self.raw_idx]
        return np.swapaxes(d, 1, 2)

    def residual_jacobian(self, theta, state):
        """Kaufman Jacobian of the projected residual w.r.t. all nonlinear parameters (V, 2K, P)."""
        yp = state["yp"]
        dphase = [-1j * yp, -1j * (self.ppm[None, :] - self.pivot) * yp]
        d_model = self.model_derivatives(theta, state["amps"])
        d = np.concatenate([np.stack(dphase, axis=2), -d_model], axis=2)  # (V, K, P)
        d_stack = self.project(self.stack(d))
        a = state["a_stack"]
        coeff = solve_on_passive_set(state["gram"], np.einsum("vkm,vkp->vmp", a, d_stack), state["passive"])
        return d_stack - np.einsum("vkm,vmp->vkp", a, coeff)

    def fisher_covariance(self, theta, state, noise_sd):
        """Covariance of [amplitudes, free nonlinear params] from the full-model Fisher matrix."""
        cols = state["cols"]
        amps = state["amps"]
        fitted = np.einsum("vmk,vm->vk", cols, amps) + self.baseline(state)
        j_amp = self.stack(np.swapaxes(cols, 1, 2))                       # (V, 2K, M)
        d_phase = np.stack([1j * fitted, 1j * (self.ppm[None, :] - self.pivot) * fitted], axis=2)
        d_nl = np.concatenate([d_phase, self.model_derivatives(theta, amps)], axis=2)[:, :, self.free]
        j_nl = self.stack(d_nl)
        blocks = [j_amp, j_nl]
        if self.qb.shape[1]:
            zeros = np.zeros_like(self.qb)
            bl = np.concatenate([np.concatenate([self.qb, zeros], 1), np.concatenate([zeros, self.qb], 1)], 0)
            blocks.append(np.broadcast_to(bl, (cols.shape[0],) + bl.shape))
        jac = np.concatenate(blocks, axis=2)
        fisher = np.einsum("vkp,vkq->vpq", jac, jac) / (noise_sd[:, None, None] ** 2)
        cov = np.linalg.pinv(fisher, hermitian=True)
        n_free = int(self.free.sum())
        return cov[:, :self.M, :self.M], cov[:, self.M:self.M + n_free, self.M:self.M + n_free]
