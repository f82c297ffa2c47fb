"""The array pipeline: TR / flip / frame / grid checks, noise from the imaginary part of complex data,
the input-function option, and the anatomy-segment coverage rule on the 13C grid."""
import unittest

import numpy as np

from HyperpolarizedModuleLib import segment_grid, synthesis
from HyperpolarizedModuleLib.pipeline import analyse_hyperpolarized
from HyperpolarizedModuleLib.settings import HyperpolarizedSettings
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as st


class PipelineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p = synthesis.phantom_grid(shape=(1, 8, 8), n_frames=16)

    def series(self):
        return {"pyruvate": self.p.pyruvate, "lactate": self.p.lactate}

    def test_errors_before_any_work(self):
        s = HyperpolarizedSettings(flip_pyruvate_deg=20.0, flip_lactate_deg=30.0)
        with self.assertRaisesRegex(InputError, "TR missing"):
            analyse_hyperpolarized(self.series(), s)
        s = HyperpolarizedSettings(tr_s=3.0, flip_pyruvate_deg=20.0, flip_lactate_deg=30.0)
        with self.assertRaisesRegex(InputError, "lactate: 15 frames"):
            analyse_hyperpolarized({"pyruvate": self.p.pyruvate, "lactate": self.p.lactate[:-1]}, s)
        with self.assertRaisesRegex(InputError, "grid"):
            analyse_hyperpolarized({"pyruvate": self.p.pyruvate, "lactate": self.p.lactate[:, :, :-1]}, s)
        with self.assertRaisesRegex(InputError, "flip angle of lactate missing"):
            analyse_hyperpolarized(self.series(), HyperpolarizedSettings(tr_s=3.0, flip_pyruvate_deg=20.0))
        with self.assertRaisesRegex(InputError, "excitations"):
            analyse_hyperpolarized(self.series(), HyperpolarizedSettings(
                tr_s=3.0, flip_pyruvate_deg=[5.0] * 20, flip_lactate_deg=30.0, excitations_per_frame=2))

    def test_frame_times_give_the_tr_and_multi_excitation_flat_list(self):
        fp = np.full((16, 2), 12.0)
        d = synthesis.simulate(np.array([[[0.04]]]), 2.5, 16, fp, 30.0)
        s = HyperpolarizedSettings(flip_pyruvate_deg=fp.ravel().tolist(), flip_lactate_deg=30.0,
                                   excitations_per_frame=2, noise_sigma=1e-6)
        a = analyse_hyperpolarized({"pyruvate": np.moveaxis(d["pyruvate"], -1, 0),
                                    "lactate": np.moveaxis(d["lactate"], -1, 0)}, s, frame_times_s=np.arange(16) * 2.5)
        self.assertAlmostEqual(float(a.maps["kPL"].ravel()[0]), 0.04, delta=0.04 * 1e-4)
        self.assertIn("frame times", a.provenance["TR"])

    def test_complex_noise_from_imaginary_part(self):
        p = synthesis.phantom_grid(shape=(1, 8, 8), n_frames=16, snr=100, complex_data=True, rng=4)
        s = HyperpolarizedSettings(tr_s=3.0, flip_pyruvate_deg=20.0, flip_lactate_deg=30.0)
        a = analyse_hyperpolarized({"pyruvate": p.pyruvate, "lactate": p.lactate}, s, mask=p.body)
        self.assertIn("imaginary", a.noise_source)
        self.assertLess(abs(a.noise_sigma / p.sigma - 1), 0.15)
        tumour = p.tumour & (a.status == st.OK)
        self.assertLess(abs(np.median(a.maps["kPL"][tumour]) / 0.05 - 1), 0.1)

    def test_input_function_option(self):
        s = HyperpolarizedSettings(tr_s=3.0, flip_pyruvate_deg=20.0, flip_lactate_deg=30.0, model="boxcar",
                                   noise_sigma=1e-6)
        a = analyse_hyperpolarized(self.series(), s, mask=self.p.body)
        self.assertIn("arrival_s", a.maps)
        self.assertIn("pyruvate", a.fitted)
        # the phantom's input is a boxcar from 2 s for 9 s averaged over each 3 s frame interval (a staircase),
        # which a single boxcar approximates: kPL within 2 % (exact recovery: test_hp_kinetics)
        ok = self.p.body & (a.status == st.OK)
        self.assertGreater(ok.sum(), 0.8 * self.p.body.sum())
        np.testing.assert_allclose(a.maps["kPL"][ok], self.p.kpl[ok], rtol=0.02)


class SegmentGridTest(unittest.TestCase):
    def test_coverage_rule(self):
        coarse = np.diag([10.0, 10.0, 10.0, 1.0])
        fine = np.diag([1.0, 1.0, 10.0, 1.0])
        fine[:2, 3] = -4.5                       # fine voxel centres -4.5 .. 34.5 cover coarse voxels 0..3
        mask = np.zeros((1, 40, 40), bool)
        mask[0, :, :8] = True                    # x in [-5, 3): 80 % of coarse voxel i = 0 ([-5, 5))
        mask[0, :, 8:13] = True                  # x in [3, 8): 20 % of voxel 1 ([5, 15))
        cov = segment_grid.coverage(mask, fine, (1, 4, 4), coarse)
        np.testing.assert_allclose(cov[0, 0, :2], [1.0, 0.25])     # 4 sub-samples per 10 mm: 0.25 steps
        on = segment_grid.on_grid(mask, fine, (1, 4, 4), coarse)
        np.testing.assert_array_equal(on[0, 0], [True, False, False, False])
        with self.assertRaises(InputError):
            segment_grid.on_grid(np.zeros_like(mask), fine, (1, 4, 4), coarse)


if __name__ == "__main__":
    unittest.main()
