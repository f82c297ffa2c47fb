"""analyse_dce on a synthetic SPGR series with known Ktrans/ve/vp on an uneven time grid.

The series is built forward from the truth: Parker AIF with a delay (whole blood -> plasma),
extended Tofts tissue curves (kinetics.concentration), exact SPGR signal and a VFA series.
Noise-free, so every route (population AIF with the known or the fitted delay, measured,
automatic and tabulated AIF) must give back the truth to 1 %. The data come from the shared
test helper Testing/Python/dce_fixtures.py.
"""
import unittest
from dataclasses import replace

import numpy as np

from dce_fixtures import BLOOD_T1_S, DELAY_S, FIELD_T, FLIP_DEG, M0, R1_GADOBUTROL_3T, TR_S, synthetic_dce
from DCEModuleLib import signal
from DCEModuleLib import pipeline
from DCEModuleLib.pipeline import analyse_dce
from DCEModuleLib.settings import DCESettings
from TMEMonitorLib import kinetics
from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.fitting import status as fit_status

TOLERANCE = 0.01


class PipelineRecoveryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = synthetic_dce()

    def analyse(self, settings, **kwargs):
        d = self.data
        arguments = dict(metadata=d.metadata, mask=d.tissue, vfa=(d.vfa, d.flips_deg))
        arguments.update(kwargs)
        return analyse_dce(d.signal, d.t_s, settings, **arguments)

    def assert_recovered(self, analysis, names=("Ktrans", "ve", "vp"), tolerance=TOLERANCE):
        tissue = self.data.tissue
        for name in names:
            with self.subTest(parameter=name):
                error = np.abs(analysis.maps[name][tissue] / self.data.truth[name][tissue] - 1.0)
                self.assertLess(float(np.max(error)), tolerance)
        np.testing.assert_array_equal(analysis.status[tissue], fit_status.OK)
        np.testing.assert_array_equal(analysis.status[~tissue], fit_status.MASKED)
        np.testing.assert_array_equal(analysis.maps["Ktrans"][~tissue], np.nan)

    def test_population_aif_with_known_delay(self):
        analysis = self.analyse(DCESettings(aif_source="population", aif_delay_s=DELAY_S))
        self.assert_recovered(analysis)
        np.testing.assert_allclose(analysis.aif["cp_mM"], self.data.cp_mM, rtol=1e-12)
        # T10 by the VFA fit, and the relaxivity preset chosen from agent and field
        np.testing.assert_allclose(analysis.maps["T10"][self.data.tissue], self.data.truth["T10"][self.data.tissue],
                                   rtol=1e-4)
        self.assertEqual(analysis.acquisition["r1_per_mM_s"][0], R1_GADOBUTROL_3T)
        np.testing.assert_array_equal(analysis.baseline_frames, np.arange(6))   # frames before 22 s
        kep = analysis.maps["kep"][self.data.tissue]
        truth_kep = (self.data.truth["Ktrans"] / self.data.truth["ve"])[self.data.tissue]
        self.assertLess(float(np.max(np.abs(kep / truth_kep - 1))), TOLERANCE)

    def test_population_aif_delay_from_the_data(self):
        analysis = self.analyse(DCESettings(aif_source="population"))
        self.assertAlmostEqual(analysis.aif["delay_s"], DELAY_S, delta=0.25)
        self.assert_recovered(analysis, tolerance=0.02)

    def test_measured_aif_from_arterial_voxels(self):
        analysis = self.analyse(DCESettings(aif_source="measured"), aif_mask=self.data.artery)
        np.testing.assert_allclose(analysis.aif["cb_mM"], self.data.cb_mM, atol=1e-3 * self.data.cb_mM.max())
        self.assert_recovered(analysis)

    def test_measured_aif_with_fixed_t10_uses_blood_t1_in_the_artery(self):
        d = self.data
        # One T10 for the whole volume: tissue voxels all at 1.2 s, artery from the blood preset.
        t10 = np.where(d.artery, BLOOD_T1_S, 1.2)
        series = signal.concentration_to_spgr(d.ct_mM, M0, t10, TR_S, FLIP_DEG, R1_GADOBUTROL_3T)
        analysis = analyse_dce(np.moveaxis(series, -1, 0), d.t_s, DCESettings(aif_source="measured", fixed_t10_s=1.2),
                               metadata=d.metadata, mask=d.tissue, aif_mask=d.artery)
        np.testing.assert_allclose(analysis.aif["cb_mM"], d.cb_mM, atol=1e-3 * d.cb_mM.max())
        self.assert_recovered(analysis)

    def test_automatic_aif_finds_the_arterial_voxels(self):
        analysis = self.analyse(DCESettings(aif_source="automatic", aif_voxels=4))
        found = np.zeros(self.data.tissue.shape, bool)
        found[analysis.aif["voxels"]] = True
        np.testing.assert_array_equal(found, self.data.artery)
        self.assert_recovered(analysis)

    def test_table_aif(self):
        analysis = self.analyse(DCESettings(aif_source="table"), aif_table=(self.data.t_s, self.data.cp_mM))
        self.assert_recovered(analysis)

    def test_tofts_and_patlak_models_on_their_own_curves(self):
        d = self.data
        for model, params in (("tofts", ("Ktrans", "ve")), ("patlak", ("Ktrans", "vp"))):
            with self.subTest(model=model):
                # persistent (Patlak) curves peak at the last frame: the baseline must still end at 22 s
                truth = {p: np.where(d.tissue, d.truth[p], 0.1) for p in params}
                ct = kinetics.concentration(model, d.t_s, d.cp_mM, **truth)
                series = signal.concentration_to_spgr(ct, M0, d.truth["T10"], TR_S, FLIP_DEG, R1_GADOBUTROL_3T)
                analysis = analyse_dce(np.moveaxis(series, -1, 0), d.t_s,
                                       DCESettings(model=model, aif_delay_s=DELAY_S),
                                       metadata=d.metadata, mask=d.tissue, t10_map=d.truth["T10"])
                self.assert_recovered(analysis, names=params)
                np.testing.assert_array_equal(analysis.baseline_frames, np.arange(6))

    def test_model_selection_picks_extended_tofts(self):
        analysis = self.analyse(DCESettings(aif_delay_s=DELAY_S, select_model=True))
        self.assert_recovered(analysis)
        np.testing.assert_array_equal(analysis.maps["model"][self.data.tissue], 3)   # 3 = extended_tofts

    def test_concentration_and_fitted_curves(self):
        analysis = self.analyse(DCESettings(aif_delay_s=DELAY_S, write_concentration=True, write_fitted_curves=True))
        tissue = self.data.tissue
        truth = kinetics.concentration("extended_tofts", self.data.t_s, self.data.cp_mM,
                                       **{p: self.data.truth[p][tissue] for p in ("Ktrans", "ve", "vp")})
        np.testing.assert_allclose(analysis.concentration[:, tissue].T, truth, atol=1e-4)
        np.testing.assert_allclose(analysis.fitted[:, tissue].T, truth, atol=1e-4)
        np.testing.assert_array_equal(analysis.fitted[:, ~tissue], np.nan)

    def test_semi_quantitative_maps(self):
        analysis = self.analyse(DCESettings(aif_delay_s=DELAY_S))
        tissue = self.data.tissue
        # the bolus reaches the tissue at 22 s, between the frames at 19.8 s and 24.1 s
        bat = analysis.maps["BAT_s"][tissue]
        np.testing.assert_array_less(np.abs(bat - DELAY_S), 1.0)
        ct = analysis.maps["peak_enhancement"][tissue]
        np.testing.assert_array_less(0, ct)
        self.assertTrue(set(np.unique(analysis.curve_type[tissue])) <= {1, 2, 3})

    def test_noisy_series(self):
        """SNR 50 (baseline signal / noise SD): the baseline is found and the fits hold up.

        With the population AIF (delay fitted) Ktrans is unbiased within 2 % and off by under
        5 % in the median voxel; the automatic AIF must find the 8 arterial voxels, but its
        noise moves every Ktrans together (by up to 8 % over seeds 1-7), hence 12 %.
        """
        d = synthetic_dce(n_arterial=8)
        rng = np.random.default_rng(7)
        sd = float(d.signal[:6].mean()) / 50.0
        noisy = d.signal + rng.normal(0.0, sd, d.signal.shape).astype(np.float32)
        vfa = d.vfa + rng.normal(0.0, sd, d.vfa.shape).astype(np.float32)
        for settings, bias, spread in ((DCESettings(aif_source="population"), 0.02, 0.05),
                                       (DCESettings(aif_source="automatic", aif_voxels=8), 0.12, 0.12)):
            with self.subTest(aif=settings.aif_source):
                analysis = analyse_dce(noisy, d.t_s, settings, metadata=d.metadata, mask=d.tissue,
                                       vfa=(vfa, d.flips_deg))
                np.testing.assert_array_equal(analysis.baseline_frames, np.arange(6))
                error = analysis.maps["Ktrans"][d.tissue] / d.truth["Ktrans"][d.tissue] - 1.0
                self.assertLess(abs(float(np.median(error))), bias)
                self.assertLess(float(np.median(np.abs(error))), spread)
                np.testing.assert_array_equal(
                    np.isin(analysis.status[d.tissue], (fit_status.OK, fit_status.HIT_BOUND)), True)
                if settings.aif_source == "automatic":
                    found = np.zeros(d.tissue.shape, bool)
                    found[analysis.aif["voxels"]] = True
                    np.testing.assert_array_equal(found, d.artery)

    def test_background_noise_is_neither_artery_nor_fitted(self):
        """A slice of air (magnitude noise only): no mask means every voxel with signal; the
        background is marked "no signal", and noise spikes are not taken for an artery."""
        d = self.data
        rng = np.random.default_rng(3)
        sd = float(d.signal[:6].mean()) / 40.0
        air = np.hypot(rng.normal(0, sd, (d.t_s.size, 1, 8, 8)), rng.normal(0, sd, (d.t_s.size, 1, 8, 8)))
        air_vfa = np.hypot(rng.normal(0, sd, (5, 1, 8, 8)), rng.normal(0, sd, (5, 1, 8, 8)))
        series = np.concatenate([d.signal, air.astype(np.float32)], axis=1)
        vfa = np.concatenate([d.vfa, air_vfa.astype(np.float32)], axis=1)
        analysis = analyse_dce(series, d.t_s, DCESettings(aif_source="automatic", aif_voxels=4),
                               metadata=d.metadata, vfa=(vfa, d.flips_deg))
        found = np.zeros(series.shape[1:], bool)
        found[analysis.aif["voxels"]] = True
        np.testing.assert_array_equal(found[:2], d.artery)
        self.assertFalse(found[2].any())
        np.testing.assert_array_equal(analysis.status[2], fit_status.NO_SIGNAL)
        ktrans = analysis.maps["Ktrans"][:2][d.tissue]
        np.testing.assert_allclose(ktrans, d.truth["Ktrans"][d.tissue], rtol=TOLERANCE)

    def test_uneven_grid_not_starting_at_zero(self):
        d = self.data
        analysis = analyse_dce(d.signal, d.t_s + 1000.0, DCESettings(aif_delay_s=DELAY_S), metadata=d.metadata,
                               mask=d.tissue, vfa=(d.vfa, d.flips_deg))
        self.assert_recovered(analysis)
        np.testing.assert_array_equal(analysis.t_s, d.t_s + 1000.0)


class PipelineStagesTest(unittest.TestCase):
    """The stages behind analyse_dce: DCEInputs -> prepare -> PreparedDCE -> fit_blocks."""

    def test_stages_give_the_same_maps_as_analyse_dce(self):
        d = synthetic_dce(shape=(1, 4, 4))
        settings = DCESettings(aif_delay_s=DELAY_S).validated()
        inputs = pipeline.DCEInputs(d.signal, d.t_s, metadata=d.metadata, mask=d.tissue, vfa=(d.vfa, d.flips_deg))
        prepared = pipeline.prepare(inputs, settings)
        self.assertIsInstance(prepared, pipeline.PreparedDCE)
        np.testing.assert_array_equal(prepared.baseline, np.arange(6))
        np.testing.assert_array_equal(prepared.mask, d.tissue)
        self.assertEqual(prepared.acquisition["TR_s"], (TR_S, "acquisition metadata"))
        self.assertIsNone(prepared.concentration)            # population AIF: converted block by block
        np.testing.assert_allclose(prepared.convert(prepared.tissue_rows), d.ct_mM[d.tissue], rtol=1e-4, atol=1e-6)
        blocks = pipeline.fit_blocks(prepared, settings)
        whole = analyse_dce(d.signal, d.t_s, settings, metadata=d.metadata, mask=d.tissue, vfa=(d.vfa, d.flips_deg))
        np.testing.assert_array_equal(blocks.maps["Ktrans"], whole.maps["Ktrans"])
        np.testing.assert_array_equal(blocks.status, whole.status)
        np.testing.assert_array_equal(pipeline.analyse(inputs, settings).maps["ve"], whole.maps["ve"])


class PipelineErrorTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data = synthetic_dce(shape=(1, 4, 4), n_arterial=2)
        cls.settings = DCESettings(aif_delay_s=DELAY_S)

    def run_with(self, settings=None, signal_4d=None, t_s=None, **kwargs):
        d = self.data
        arguments = dict(metadata=d.metadata, mask=d.tissue, vfa=(d.vfa, d.flips_deg))
        arguments.update(kwargs)
        return analyse_dce(d.signal if signal_4d is None else signal_4d, d.t_s if t_s is None else t_s,
                           settings or self.settings, **arguments)

    def assert_error(self, expected_text, error=InputError, **kwargs):
        with self.assertRaises(error) as caught:
            self.run_with(**kwargs)
        self.assertIn(expected_text, str(caught.exception))

    def test_too_few_frames(self):
        self.assert_error("too few", signal_4d=self.data.signal[:5], t_s=self.data.t_s[:5])

    def test_frame_times_not_increasing(self):
        t = self.data.t_s.copy()
        t[10] = t[9]
        self.assert_error("strictly increasing", error=MetadataError, t_s=t)

    def test_no_baseline_before_arrival(self):
        late = np.searchsorted(self.data.t_s, DELAY_S)
        self.assert_error("no baseline", signal_4d=self.data.signal[late:], t_s=self.data.t_s[late:])

    def test_aif_table_shorter_than_the_series(self):
        d = self.data
        self.assert_error("shorter", settings=DCESettings(aif_source="table"), aif_table=(d.t_s[:-5], d.cp_mM[:-5]))

    def test_aif_table_on_another_grid(self):
        d = self.data
        self.assert_error("another grid", settings=DCESettings(aif_source="table"),
                          aif_table=(d.t_s + 0.5, d.cp_mM))

    def test_mask_shape_mismatch(self):
        self.assert_error("mask: shape", mask=np.ones((1, 4, 5), bool))

    def test_empty_mask(self):
        self.assert_error("no voxel", mask=np.zeros((1, 4, 4), bool))

    def test_missing_flip_angle_and_tr(self):
        d = self.data
        for key, name in (("flip_angle_deg", "flip angle"), ("TR_s", "repetition time")):
            with self.subTest(missing=key):
                metadata = {k: v for k, v in d.metadata.items() if k != key}
                self.assert_error(name, error=MetadataError, metadata=metadata)
        # the setting supplies what the metadata lacks
        analysis = self.run_with(settings=replace(self.settings, tr_s=TR_S), metadata={"flip_angle_deg": FLIP_DEG,
                                                                                        "field_strength_T": FIELD_T})
        self.assertEqual(analysis.acquisition["TR_s"], (TR_S, "user setting"))

    def test_tr_in_milliseconds_refused(self):
        self.assert_error("ms", error=MetadataError, metadata={**self.data.metadata, "TR_s": 5.0})

    def test_concentration_all_nan(self):
        self.assert_error("concentration", vfa=None, t10_map=np.full((1, 4, 4), np.nan))

    def test_no_t1_source(self):
        self.assert_error("no T1 source", vfa=None)

    def test_measured_aif_needs_a_roi(self):
        self.assert_error("arterial ROI", settings=DCESettings(aif_source="measured"))

    def test_unknown_model_and_aif_source(self):
        self.assert_error("model 'toft'", settings=DCESettings(model="toft"))
        self.assert_error("AIF source", settings=DCESettings(aif_source="psychic"))

    def test_vfa_grid_mismatch(self):
        self.assert_error("VFA series", vfa=(self.data.vfa[:, :, :3], self.data.flips_deg))

    def test_voxel_without_t1_is_marked_not_fitted(self):
        t10 = self.data.truth["T10"].copy()
        t10[0, 3, 3] = np.nan
        analysis = self.run_with(vfa=None, t10_map=t10)
        self.assertEqual(analysis.status[0, 3, 3], fit_status.NO_SIGNAL)
        self.assertTrue(np.isnan(analysis.maps["Ktrans"][0, 3, 3]))
        others = self.data.tissue.copy()
        others[0, 3, 3] = False
        np.testing.assert_array_equal(analysis.status[others], fit_status.OK)


if __name__ == "__main__":
    unittest.main()
