"""The DWI acquisition of the phantom visit (DiffusionModuleLib.synthesis.synthesize_dwi)."""
import unittest

import numpy as np

from DiffusionModuleLib.synthesis import ivim_signal, synthesize_dwi
from TMEMonitorLib.phantom import make_patient


class DWISynthesisTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.visit = make_patient(shape=(4, 32, 32), n_visits=1, seed=3).visits[0]

    def test_dwi_noise_free_b0_is_s0(self):
        dwi = synthesize_dwi(self.visit, snr=0)
        np.testing.assert_allclose(dwi["signal"][0], self.visit.truth["S0_dwi"], rtol=1e-6)

    def test_noise_free_signal_is_the_ivim_forward_model(self):
        truth = self.visit.truth
        dwi = synthesize_dwi(self.visit, snr=0)
        expected = ivim_signal(truth["S0_dwi"], truth["D"], truth["f"], truth["Dstar"], dwi["b_values"])
        np.testing.assert_allclose(dwi["signal"], np.moveaxis(expected, -1, 0), rtol=1e-5, atol=1e-3)

    def test_noise_sigma_from_normal_tissue_snr(self):
        dwi = synthesize_dwi(self.visit, snr=50.0, rng=np.random.default_rng(1))
        normal = self.visit.labels == 1
        self.assertAlmostEqual(dwi["sigma"], float(np.mean(self.visit.truth["S0_dwi"][normal]) / 50.0))


if __name__ == "__main__":
    unittest.main()
