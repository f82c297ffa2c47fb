"""The kPL standard error with the driving pyruvate's noise propagated (uncertainty.py) matches the
empirical SD of kPL over noise realisations (Monte Carlo); the product-only SE does not."""
import unittest

import numpy as np

from HyperpolarizedModuleLib.kinetics import fit_kpl
from HyperpolarizedModuleLib.synthesis import simulate

N_REALISATIONS = 400      # one batched fit; the SD of an SD estimate is ~3.5 % at this size


def _monte_carlo(kpl, snr, complex_data=True, seed=7, noise_model="gaussian"):
    rng = np.random.default_rng(seed)
    data = simulate(np.full(N_REALISATIONS, kpl), 3.0, 20, 20.0, 30.0, snr=snr, complex_data=complex_data, rng=rng)
    sigma = data["sigma"] if noise_model == "rician" else None
    fit = fit_kpl(data["pyruvate"], data["lactate"], 3.0, 20.0, 30.0, noise_model=noise_model, noise_sigma=sigma)
    ok = fit["status"] == 0
    return fit, ok, float(np.std(fit["kPL"][ok], ddof=1))


class PropagatedStandardErrorTest(unittest.TestCase):
    def test_se_matches_the_empirical_sd_at_two_snrs(self):
        for snr in (20, 50):
            fit, ok, sd = _monte_carlo(0.1, snr)
            self.assertGreater(ok.mean(), 0.95)
            ratio = np.median(fit["se_kPL"][ok]) / sd
            self.assertLess(abs(ratio - 1.0), 0.15, f"SNR {snr}: SE/SD = {ratio:.3f}")
            # the product-noise-only SE is too small here (the pyruvate noise matters at high kPL)
            old = np.median(fit["se_kPL_lactate_only"][ok]) / sd
            self.assertLess(old, 0.8, f"SNR {snr}: lactate-only SE/SD = {old:.3f}")
            # the 95 % CI now covers about 95 %
            inside = (fit["kPL_ci95_low"][ok] <= 0.1) & (fit["kPL_ci95_high"][ok] >= 0.1)
            self.assertGreater(inside.mean(), 0.90, f"SNR {snr}: CI coverage {inside.mean():.2f}")

    def test_low_kpl_and_magnitude_data(self):
        fit, ok, sd = _monte_carlo(0.02, 20, complex_data=False)
        self.assertLess(abs(np.median(fit["se_kPL"][ok]) / sd - 1.0), 0.15)
        fit, ok, sd = _monte_carlo(0.1, 50, complex_data=False, noise_model="rician")
        self.assertLess(abs(np.median(fit["se_kPL"][ok]) / sd - 1.0), 0.15)

    def test_noise_free_data_give_a_vanishing_se(self):
        data = simulate(np.array([0.05]), 3.0, 20, 20.0, 30.0)
        fit = fit_kpl(data["pyruvate"], data["lactate"], 3.0, 20.0, 30.0)
        self.assertLess(fit["se_kPL"][0], 1e-6 * 0.05)
        self.assertTrue(np.isfinite(fit["se_kPL_lactate_only"][0]))


if __name__ == "__main__":
    unittest.main()
