"""Spectroscopy pipeline on objects (no MRML): settings, header checks, basis choice, SVS and MRSI analysis."""
import unittest
import unittest.mock
from types import SimpleNamespace

import numpy as np

from SpectroscopyModuleLib import pipeline, processing_steps
from SpectroscopyModuleLib.basis import simulate_basis
from SpectroscopyModuleLib.settings import SpectroscopySettings
from SpectroscopyModuleLib.synthetic import TUMOUR_MM, synthesize_mrsi, synthesize_spectrum
from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.fitting import status as fit_status

MHZ, TE, N_POINTS, DWELL = 123.2, 0.030, 1024, 1 / 2000
NO_PROCESSING = SpectroscopySettings(processing=())


def pool(concentrations, names):
    return sum(concentrations.get(n, 0.0) for n in names)


TRUTH_RATIOS = {
    "tCho/tCr": pool(TUMOUR_MM, ("GPC", "PCh")) / pool(TUMOUR_MM, ("Cr", "PCr")),
    "Lac/tCr": TUMOUR_MM["Lac"] / pool(TUMOUR_MM, ("Cr", "PCr")),
    "tNAA/tCr": pool(TUMOUR_MM, ("NAA", "NAAG")) / pool(TUMOUR_MM, ("Cr", "PCr")),
}


class SettingsTest(unittest.TestCase):
    def test_validation(self):
        for bad in (dict(basis_source="guess"), dict(basis_source="file"), dict(sequence="SPECIAL"),
                    dict(processing=("denoise",)), dict(te_s=30.0), dict(ppm_min=4.2, ppm_max=0.2),
                    dict(zero_fill_factor=0), dict(baseline="wiggly")):
            with self.subTest(**{k: str(v) for k, v in bad.items()}), self.assertRaises(InputError):
                SpectroscopySettings(**bad).validated()

    def test_processing_is_put_in_pipeline_order(self):
        settings = SpectroscopySettings(processing=("average", "coil_combine", "align")).validated()
        self.assertEqual(settings.processing, ("coil_combine", "align", "average"))


class SingleVoxelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mrs = synthesize_spectrum(TUMOUR_MM, MHZ, TE, "PRESS", N_POINTS, DWELL, linewidth_hz=6.0, snr=100,
                                      rng=0, shift_hz=2.0, phase0_deg=20.0)
        cls.analysis = pipeline.analyse_svs(cls.mrs, SpectroscopySettings())

    def test_known_ratios_recovered_within_their_uncertainty(self):
        analysis = self.analysis
        for label, truth in TRUTH_RATIOS.items():
            with self.subTest(ratio=label):
                sd = analysis.ratio_sd[label]
                self.assertGreater(sd, 0)
                self.assertLess(sd / truth, 0.06)                          # SNR 100: a few percent
                self.assertLess(abs(analysis.ratios[label] - truth), 4 * sd + 0.01 * truth)

    def test_biomarkers_are_a_plain_dict(self):
        biomarkers = self.analysis.biomarkers
        for key in ("tCho/tCr", "tCho", "Lac/tCr", "tNAA", "NAA"):
            self.assertIn(key, biomarkers)
            self.assertIsInstance(biomarkers[key], float)
        self.assertAlmostEqual(biomarkers["tCho"], self.analysis.fit.amplitudes["GPC"]
                               + self.analysis.fit.amplitudes["PCh"] + self.analysis.fit.amplitudes["Cho"], places=9)
        self.assertTrue(all(np.isfinite(v) for v in biomarkers.values()))
        # No citrate in this tumour: a ratio over a spurious citrate amplitude is flagged and left out.
        unreliable = self.analysis.quality["unreliable_ratios"]
        self.assertTrue(all(label.endswith("/Cit") for label in unreliable))
        for label in unreliable:
            self.assertNotIn(label, biomarkers)
            self.assertIn(label, self.analysis.ratios)

    def test_default_steps_skip_on_a_single_fid_and_say_why(self):
        outcomes = dict(self.analysis.processing)
        self.assertEqual(set(outcomes), {"coil_combine", "align", "average"})
        self.assertTrue(all(text.startswith("skipped") for text in outcomes.values()))

    def test_acquisition_recorded_with_source(self):
        acquisition = self.analysis.acquisition
        self.assertAlmostEqual(acquisition["spectrometer_mhz"][0], MHZ)
        self.assertAlmostEqual(acquisition["te_s"][0], TE)
        self.assertAlmostEqual(acquisition["field_T"][0], MHZ / 42.577478, places=6)
        few = ("NAA", "Cr", "PCr", "GPC", "PCh", "Lac")
        self.assertEqual(pipeline.analyse_svs(self.mrs, SpectroscopySettings(processing=(), te_s=0.031, metabolites=few),
                                              ).acquisition["te_s"], (0.031, "user setting"))

    def test_quality_flags_for_broad_and_noisy_spectra(self):
        broad = synthesize_spectrum(TUMOUR_MM, MHZ, TE, "PRESS", N_POINTS, DWELL, linewidth_hz=18.0, snr=60, rng=1)
        quality = pipeline.analyse_svs(broad, NO_PROCESSING).quality
        self.assertTrue(quality["fwhm_high"])                           # 18 Hz = 0.146 ppm > 0.1 ppm
        self.assertTrue(any("linewidth" in flag for flag in quality["flags"]))
        noisy = synthesize_spectrum(TUMOUR_MM, MHZ, TE, "PRESS", N_POINTS, DWELL, linewidth_hz=6.0, snr=2.0, rng=2)
        quality = pipeline.analyse_svs(noisy, SpectroscopySettings(processing=(), min_snr=5.0)).quality
        self.assertTrue(quality["snr_low"])
        self.assertFalse(quality["ok"])
        self.assertTrue(quality["crlb_high"])

    def test_simulated_basis_is_cached(self):
        settings = SpectroscopySettings(processing=(), metabolites=("NAA", "Cr", "PCh")).validated()
        first = pipeline.basis_for(settings, MHZ, TE, N_POINTS, DWELL)
        self.assertIs(pipeline.basis_for(settings, MHZ, TE, N_POINTS, DWELL), first)
        other_te = pipeline.basis_for(settings, MHZ, 0.035, N_POINTS, DWELL)
        self.assertIsNot(other_te, first)
        self.assertEqual((other_te.te_s, other_te.names), (0.035, ["NAA", "Cr", "PCh"]))


class HeaderAndBasisErrorsTest(unittest.TestCase):
    def setUp(self):
        self.mrs = synthesize_spectrum({"NAA": 10.0, "Cr": 8.0, "PCh": 2.0}, MHZ, TE, "PRESS", N_POINTS, DWELL, rng=0)

    def _copy(self, **changes):
        fields = dict(fid=self.mrs.fid, dwell_s=DWELL, spectrometer_mhz=MHZ, nucleus="1H", te_s=TE, tr_s=2.0,
                      affine=None, metadata={}, dim_tags=[])
        fields.update(changes)
        return SimpleNamespace(**fields)

    def test_missing_or_implausible_header_values(self):
        cases = {"dwell time": self._copy(dwell_s=None), "spectrometer": self._copy(spectrometer_mhz=None),
                 "in ms": self._copy(dwell_s=0.5), "echo time": self._copy(te_s=None),
                 "31P": self._copy(nucleus="31P"), "real-valued": self._copy(fid=self.mrs.fid.real.copy()),
                 "NaN": self._copy(fid=np.where(np.arange(N_POINTS) == 5, np.nan, self.mrs.fid))}
        for expected, mrs in cases.items():
            with self.subTest(expected), self.assertRaises(InputError) as caught:
                pipeline.analyse_svs(mrs, NO_PROCESSING)
            self.assertIn(expected, str(caught.exception))
        with self.assertRaises(MetadataError):
            pipeline.analyse_svs(self._copy(dwell_s=None), NO_PROCESSING)

    def test_basis_at_another_field_is_refused(self):
        basis_7t = simulate_basis(297.2, TE, "PRESS", ["NAA", "Cr", "PCh"], N_POINTS, DWELL)
        with self.assertRaises(InputError) as caught:
            pipeline.analyse_svs(self.mrs, NO_PROCESSING, basis=basis_7t)
        self.assertIn("297.200 MHz", str(caught.exception))
        self.assertIn("123.200 MHz", str(caught.exception))

    def test_basis_file_missing(self):
        with self.assertRaises(InputError):
            pipeline.analyse_svs(self.mrs, SpectroscopySettings(processing=(), basis_source="file",
                                                                basis_path="/no/such/basis.basis"))

    def test_several_spectra_left_need_processing(self):
        two = self._copy(fid=np.stack([self.mrs.fid, self.mrs.fid]), dim_tags=["DIM_DYN"])
        with self.assertRaises(InputError) as caught:
            pipeline.analyse_svs(two, NO_PROCESSING)
        self.assertIn("averaging", str(caught.exception))

    def test_not_a_spectrum(self):
        with self.assertRaises(InputError):
            pipeline.load_mrs(42)
        with self.assertRaises(InputError):
            pipeline.load_mrs("/no/such/file.nii.gz")


class VoxelGeometryTest(unittest.TestCase):
    def test_centre_size_and_directions_from_affine(self):
        angle = np.deg2rad(15.0)
        rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
        affine = np.eye(4)
        affine[:3, :3] = rotation * np.array([20.0, 15.0, 10.0])
        affine[:3, 3] = [-12.0, 30.0, 5.5]
        mrs = SimpleNamespace(fid=np.zeros(64, complex), affine=affine, metadata={}, dim_tags=[])
        geometry = pipeline.voxel_geometry(mrs)
        np.testing.assert_allclose(geometry["centre_ras"], [-12.0, 30.0, 5.5])
        np.testing.assert_allclose(geometry["size_mm"], [20.0, 15.0, 10.0])
        np.testing.assert_allclose(geometry["directions"], rotation, atol=1e-12)
        mrs.metadata = {"voxel_size_mm": [18.0, 14.0, 9.0]}          # header size wins over the affine
        np.testing.assert_allclose(pipeline.voxel_geometry(mrs)["size_mm"], [18.0, 14.0, 9.0])
        self.assertIsNone(pipeline.voxel_geometry(SimpleNamespace(fid=mrs.fid, affine=None, dim_tags=[])))


class MRSIPipelineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        maps = {name: np.full((4, 4), value) for name, value in TUMOUR_MM.items()}
        maps["PCh"] = maps["PCh"].copy()
        maps["PCh"][2, 1] = 7.0                                        # one voxel with high choline
        cls.maps = maps
        cls.affine = np.diag([10.0, 10.0, 12.0, 1.0])
        mrsi = synthesize_mrsi(maps, MHZ, TE, "PRESS", N_POINTS, DWELL, snr=80, rng=3, affine=cls.affine)
        mask = np.ones((4, 4), bool)
        mask[3, 3] = False
        cls.analysis = pipeline.analyse_mrsi(mrsi, NO_PROCESSING, mask=mask)

    def test_ratio_maps_follow_truth(self):
        ratio = self.analysis.maps["tCho/tCr"]
        self.assertEqual(ratio.shape, (4, 4, 1))
        truth = (self.maps["GPC"] + self.maps["PCh"]) / (self.maps["Cr"] + self.maps["PCr"])
        fitted = np.isfinite(ratio[..., 0])
        self.assertEqual(int(fitted.sum()), 15)
        np.testing.assert_allclose(ratio[..., 0][fitted], truth[fitted], rtol=0.12)
        self.assertEqual(np.unravel_index(np.nanargmax(ratio[..., 0]), (4, 4)), (2, 1))

    def test_status_quality_units_geometry(self):
        analysis = self.analysis
        self.assertEqual(analysis.status[3, 3, 0], fit_status.MASKED)
        self.assertTrue(np.isnan(analysis.maps["tCho"][3, 3, 0]))
        self.assertEqual(analysis.quality[3, 3, 0], 0)
        self.assertGreaterEqual(int((analysis.quality == pipeline.QUALITY_GOOD).sum()), 12)
        self.assertEqual(analysis.units["tCho"], "a.u.")
        self.assertEqual(analysis.units["tCho/tCr"], "")
        self.assertEqual(analysis.units["FWHM"], "ppm")
        np.testing.assert_array_equal(analysis.ijk_to_ras, self.affine)
        biomarkers = analysis.biomarkers
        self.assertAlmostEqual(biomarkers["tCho/tCr"], TRUTH_RATIOS["tCho/tCr"], delta=0.1)

    def test_voxel_analysis(self):
        fit = pipeline.voxel_analysis(self.analysis, (2, 1, 0))
        self.assertGreater(fit.ratio("tCho", "tCr"), 1.5)
        for bad in ((4, 0, 0), (0, 0, 1), (3, 3, 0)):
            with self.subTest(voxel=bad), self.assertRaises(InputError):
                pipeline.voxel_analysis(self.analysis, bad)

    def test_single_voxel_refused_by_mrsi_and_vice_versa(self):
        single = synthesize_spectrum({"NAA": 10.0, "Cr": 8.0}, MHZ, TE, "PRESS", N_POINTS, DWELL, rng=0)
        with self.assertRaises(InputError):
            pipeline.analyse_mrsi(single, NO_PROCESSING)
        grid = SimpleNamespace(fid=np.stack([single.fid, single.fid]), dwell_s=DWELL, spectrometer_mhz=MHZ,
                               te_s=TE, dim_tags=[])
        with self.assertRaises(InputError):
            pipeline.analyse_svs(grid, NO_PROCESSING)


class ProcessingDispatchTest(unittest.TestCase):
    """Which steps run on which data, with the processing functions replaced by exact reductions
    (the processing library is tested on its own)."""

    @staticmethod
    def reduce(tag):
        def function(mrs, *args):
            axis = len(np.shape(mrs.fid)) - 1 - len(mrs.dim_tags) + mrs.dim_tags.index(tag)
            tags = [t for t in mrs.dim_tags if t != tag]
            return SimpleNamespace(**{**vars(mrs), "fid": np.asarray(mrs.fid).mean(axis=axis), "dim_tags": tags})
        return function

    def test_coils_and_transients_are_combined_before_the_fit(self):
        clean = synthesize_spectrum(TUMOUR_MM, MHZ, TE, "PRESS", N_POINTS, DWELL, snr=None).fid
        rng = np.random.default_rng(0)
        weights = np.array([1.0, 0.8, 0.6, 0.4])[:, None, None]
        noise = 0.02 * np.abs(clean).max() * (rng.standard_normal((4, 8, N_POINTS)) + 1j * rng.standard_normal((4, 8, N_POINTS)))
        raw = SimpleNamespace(fid=(weights * clean + noise)[None, None, None], dwell_s=DWELL, spectrometer_mhz=MHZ,
                              nucleus="1H", te_s=TE, tr_s=2.0, affine=None, metadata={},
                              dim_tags=["DIM_COIL", "DIM_DYN"])
        self.assertFalse(pipeline.is_mrsi(raw))
        calls = []
        functions = {"coil_combine": self.reduce("DIM_COIL"), "average": self.reduce("DIM_DYN"),
                     "align": lambda mrs: calls.append("align") or mrs}
        with unittest.mock.patch.object(processing_steps, "processing_function", side_effect=lambda step: functions[step]):
            analysis = pipeline.analyse_svs(raw, SpectroscopySettings(processing=("coil_combine", "align", "average",
                                                                                  "ecc", "apodise")))
        self.assertEqual(dict(analysis.processing), {"coil_combine": "applied", "align": "applied",
                                                     "average": "applied", "ecc": "skipped: no water reference given",
                                                     "apodise": "skipped: line broadening is 0 Hz"})
        self.assertEqual(calls, ["align"])
        self.assertAlmostEqual(analysis.ratios["tCho/tCr"], TRUTH_RATIOS["tCho/tCr"], delta=0.05)

    def test_coil_combination_through_the_pipeline(self):
        raw = SimpleNamespace(fid=np.ones((2, 64), complex), dwell_s=DWELL, spectrometer_mhz=MHZ, te_s=TE,
                              dim_tags=["DIM_COIL"])
        processed, log = pipeline.apply_processing(raw, SpectroscopySettings(processing=("coil_combine",)).validated())
        self.assertEqual(log, [("coil_combine", "applied")])
        self.assertEqual(np.shape(processed.fid)[-1], 64)


class DemoSpectrumTest(unittest.TestCase):
    """The synthetic patient's per-visit spectrum follows the phantom's truth concentrations."""

    def visit(self, choline_factor):
        tumour = dict(TUMOUR_MM)
        tumour["GPC"] *= choline_factor
        tumour["PCh"] *= choline_factor
        mask = np.zeros((4, 10, 12), bool)
        mask[1:3, 4:7, 5:9] = True                          # centre (i, j, k) = (6.5, 5, 1.5)
        ijk_to_ras = np.diag([2.0, 2.0, 5.0, 1.0])
        ijk_to_ras[:3, 3] = (-10.0, 4.0, 0.0)
        return SimpleNamespace(name="week 4", truth={"metabolites_mM": {"normal tissue": {"NAA": 10.0},
                                                                        "viable rim": tumour}},
                               tumour_mask=mask, ijk_to_ras=ijk_to_ras)

    def test_choline_falls_with_response(self):
        from SpectroscopyModuleLib.synthesis import visit_spectrum
        baseline = pipeline.analyse_svs(visit_spectrum(self.visit(1.0), rng=1, snr=80), NO_PROCESSING)
        responding = pipeline.analyse_svs(visit_spectrum(self.visit(0.4), rng=2, snr=80), NO_PROCESSING)
        self.assertAlmostEqual(baseline.ratios["tCho/tCr"], TRUTH_RATIOS["tCho/tCr"], delta=0.1)
        self.assertAlmostEqual(responding.ratios["tCho/tCr"], 0.4 * TRUTH_RATIOS["tCho/tCr"], delta=0.1)
        np.testing.assert_allclose(baseline.geometry["centre_ras"], [-10.0 + 2 * 6.5, 4.0 + 2 * 5.0, 5 * 1.5])
        np.testing.assert_allclose(baseline.geometry["size_mm"], [15.0, 15.0, 15.0])

    def test_truth_without_concentrations(self):
        from SpectroscopyModuleLib.synthesis import visit_spectrum
        with self.assertRaises(InputError):
            visit_spectrum(SimpleNamespace(truth={"Ktrans": np.zeros(3)}), rng=0)
        with self.assertRaises(InputError):
            visit_spectrum(SimpleNamespace(truth={"metabolites_mM": {"normal tissue": {"NAA": 10.0}}}), rng=0)


if __name__ == "__main__":
    unittest.main()
