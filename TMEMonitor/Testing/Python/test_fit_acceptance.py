"""Fits that explain nothing are not "ok": the acceptance rule (TMEMonitorLib.fitting.fit_acceptance)
in the shared engine, the DCE and diffusion entry points, and NaN maps for every voxel not accepted."""
import unittest
import warnings

import numpy as np

from TMEMonitorLib import kinetics
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import fit_acceptance
from TMEMonitorLib.fitting import status as fit_status

B = np.array([0, 50, 100, 200, 400, 600, 800, 1000.0])


class RuleTest(unittest.TestCase):
    def test_r2_at_or_below_zero_is_not_explained(self):
        state = np.array([fit_status.OK, fit_status.OK, fit_status.HIT_BOUND, fit_status.HIT_BOUND,
                          fit_status.FAILED])
        judged = fit_acceptance.judge(state, [0.9, 0.0, np.nan, -3.0, -3.0])
        # NaN: exactly constant data, left to the fit's own status (e.g. R2* = 0 on its bound)
        np.testing.assert_array_equal(judged, [fit_status.OK, fit_status.NOT_EXPLAINED, fit_status.HIT_BOUND,
                                               fit_status.NOT_EXPLAINED, fit_status.FAILED])

    def test_parameters_stuck_at_start_with_singular_information_are_not_explained(self):
        params = np.array([[0.2, 0.2], [0.2, 0.2], [0.25, 0.2]])
        starts = np.full((3, 2), 0.2)
        judged = fit_acceptance.judge(np.zeros(3, np.uint8), [0.9, 0.9, 0.9], params, starts,
                                      singular=[True, False, True])
        # stuck + singular -> rejected; at start but well-posed (an exact start) -> kept; moved -> kept
        np.testing.assert_array_equal(judged, [fit_status.NOT_EXPLAINED, fit_status.OK, fit_status.OK])

    def test_blank_writes_nan_for_every_status_not_accepted(self):
        state = np.array([fit_status.OK, fit_status.HIT_BOUND, fit_status.FAILED, fit_status.NOT_EXPLAINED,
                          fit_status.NO_SIGNAL])
        np.testing.assert_array_equal(np.isnan(fit_acceptance.blank(np.ones(5), state)),
                                      [False, False, True, True, True])

    def test_not_decaying(self):
        curves = np.array([[100, 80, 60], [100, 100, 100], [60, 80, 100], [np.nan, 1, 0]])
        np.testing.assert_array_equal(fit_acceptance.not_decaying(curves, [0, 500, 1000]), [False, True, True, True])
        # a fall within 3x the noise is not a decay
        np.testing.assert_array_equal(fit_acceptance.not_decaying(curves[:1], [0, 500, 1000], noise=[20.0]), [True])

    def test_input_function_refused_when_zero_or_not_finite(self):
        for bad in (np.zeros(10), -np.ones(10), np.array([0, 1, np.nan])):
            with self.assertRaisesRegex(InputError, "arterial input function"):
                fit_acceptance.require_input_function(bad)
        fit_acceptance.require_input_function(np.array([0, 0, 1.0, 0.5]))


class EngineAndEntryPointTest(unittest.TestCase):
    def tissue(self, n=30):
        from DCEModuleLib import aif
        t = np.arange(40) * 4.0
        rng = np.random.default_rng(0)
        cp = aif.blood_to_plasma(aif.parker(t, 20.0), 0.42)
        ct = kinetics.concentration("extended_tofts", t, cp, Ktrans=rng.uniform(0.1, 0.3, n),
                                    ve=rng.uniform(0.2, 0.4, n), vp=rng.uniform(0.02, 0.05, n))
        return t, cp, ct + rng.normal(0, 0.005, ct.shape)

    def test_zero_aif_fits_are_not_ok(self):
        """Before: status ok everywhere, Ktrans = ve = vp = 0.2 (start values), R2 about -5."""
        t, cp, ct = self.tissue()
        fit = kinetics.fit("extended_tofts", ct, t, np.zeros_like(cp))
        self.assertFalse(np.any(fit["status"] == fit_status.OK))
        self.assertTrue(np.all(fit["status"] == fit_status.NOT_EXPLAINED))

    def test_good_fits_stay_ok(self):
        t, cp, ct = self.tissue()
        fit = kinetics.fit("extended_tofts", ct, t, cp)
        self.assertTrue(np.all(np.isin(fit["status"], fit_status.ACCEPTED)))

    def test_dce_refuses_an_all_zero_aif_before_fitting(self):
        from DCEModuleLib.pipeline import analyse_dce
        from DCEModuleLib.settings import DCESettings
        t, _, ct = self.tissue(8)
        series = np.moveaxis(ct.reshape(2, 2, 2, t.size), -1, 0)
        with self.assertRaisesRegex(InputError, "arterial input function.*zero"):
            analyse_dce(series, t, DCESettings(input_kind="concentration", aif_source="table"),
                        aif_table=(t, np.zeros_like(t)))

    def test_dce_maps_are_nan_where_the_fit_is_not_accepted(self):
        from DCEModuleLib.pipeline import analyse_dce
        from DCEModuleLib.settings import DCESettings
        t, _, ct = self.tissue(8)
        ct[:4] = 0.0                         # no enhancement: nothing for the model to explain
        series = np.moveaxis(ct.reshape(2, 2, 2, t.size), -1, 0)
        analysis = analyse_dce(series, t, DCESettings(input_kind="concentration", aif_delay_s=20.0,
                                                      semi_quantitative=False))
        rejected = ~np.isin(analysis.status, fit_status.ACCEPTED)
        self.assertTrue(rejected.reshape(-1)[:4].all())
        for name in ("Ktrans", "ve", "vp"):
            self.assertTrue(np.all(np.isnan(analysis.maps[name][rejected])), name)
            self.assertTrue(np.all(np.isfinite(analysis.maps[name][~rejected])), name)


class DiffusionTest(unittest.TestCase):
    def analyse(self, signal):
        from DiffusionModuleLib.pipeline import analyse_dwi
        from DiffusionModuleLib.settings import DiffusionSettings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return analyse_dwi(signal, B, DiffusionSettings(fit_adc=True, fit_ivim=True))

    def assert_not_ok(self, analysis, at_most_ok=0):
        for model, status in analysis.status.items():
            ok = int(np.sum(status[analysis.mask] == fit_status.OK))
            self.assertLessEqual(ok, at_most_ok, f"{model}: {ok} voxels ok")
            rejected = analysis.mask & ~np.isin(status, fit_status.ACCEPTED)
            for name in {"adc": ("ADC",), "ivim": ("f", "D", "Dstar")}[model]:
                if name in analysis.maps:
                    self.assertTrue(np.all(np.isnan(analysis.maps[name][rejected])), name)

    def test_rising_signal_is_flagged_with_a_warning(self):
        """Before: IVIM status ok in every voxel."""
        rng = np.random.default_rng(1)
        signal = (300 + 0.5 * B)[:, None, None, None] * np.ones((2, 4, 4)) + rng.normal(0, 1, (B.size, 2, 4, 4))
        analysis = self.analyse(signal)
        self.assert_not_ok(analysis)
        self.assertTrue(any("does not decrease with b" in w for w in analysis.warnings))

    def test_int16_wrapped_signal_is_flagged(self):
        """Before: ok everywhere with f about 0.99."""
        rng = np.random.default_rng(2)
        true = 40000 * (0.9 * np.exp(-B * 1e-3) + 0.1 * np.exp(-B * 0.02))
        raw = true[:, None, None, None] * np.ones((2, 4, 4)) + rng.normal(0, 50, (B.size, 2, 4, 4))
        wrapped = raw.astype(np.int64).astype(np.uint16).astype(np.int16).astype(np.float32)
        self.assert_not_ok(self.analyse(wrapped))

    def test_constant_signal_mostly_flagged(self):
        """Before: ok in every voxel. Noise can make a few voxels fall by more than 3x the noise."""
        rng = np.random.default_rng(3)
        signal = np.full((B.size, 2, 4, 4), 500.0) + rng.normal(0, 1, (B.size, 2, 4, 4))
        analysis = self.analyse(signal)
        self.assert_not_ok(analysis, at_most_ok=6)
        self.assertTrue(any("explains nothing" in w for w in analysis.warnings))


if __name__ == "__main__":
    unittest.main()
