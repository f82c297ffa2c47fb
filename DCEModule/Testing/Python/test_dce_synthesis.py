"""The DCE acquisition of the phantom visit (DCEModuleLib.synthesis): the artery holds the AIF."""
import unittest

import numpy as np

from DCEModuleLib.synthesis import synthesize_dce
from TMEMonitorLib.phantom import LABELS, make_patient


class DCESynthesisTest(unittest.TestCase):
    def test_dce_artery_is_the_aif(self):
        visit = make_patient(shape=(4, 32, 32), n_visits=1, seed=3).visits[0]
        dce = synthesize_dce(visit, snr=0)
        artery = visit.labels == LABELS["artery"]
        np.testing.assert_allclose(dce["concentration_mM"][:, artery][:, 0], dce["aif_blood_mM"], rtol=1e-6)

    def test_noise_free_baseline_is_the_spgr_signal_of_t10(self):
        visit = make_patient(shape=(4, 32, 32), n_visits=1, seed=3).visits[0]
        dce = synthesize_dce(visit, snr=0, tr_s=0.005, flip_angle_deg=15.0)
        tissue = visit.labels == LABELS["normal"]
        e1 = np.exp(-0.005 / visit.truth["T10_s"][tissue])
        a = np.deg2rad(15.0)
        expected = visit.truth["M0"][tissue] * np.sin(a) * (1 - e1) / (1 - np.cos(a) * e1)
        np.testing.assert_allclose(dce["signal"][0][tissue], expected, rtol=1e-5)


if __name__ == "__main__":
    unittest.main()
