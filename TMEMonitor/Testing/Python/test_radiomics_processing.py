"""Radiomics processing chain, settings and bad input, against hand-computed values."""
import math
import unittest

import numpy as np
import SimpleITK as sitk

from TMEMonitorLib.errors import InputError
from TMEMonitorLib.radiomics import PRESETS, compute_features, resolve_settings, settings_hash
from TMEMonitorLib.radiomics.discretisation import discretise
from TMEMonitorLib.radiomics.processing import interpolation_grid, resample, resegment


def make_image(array, spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0)):
    image = sitk.GetImageFromArray(np.asarray(array, dtype=np.float64))
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    return image


def ct_like(shape=(12, 24, 24), spacing=(1.0, 1.0, 2.0), seed=0):
    """A smooth 'tumour' in HU with noise and its spherical mask (arrays z, y, x)."""
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(*[np.arange(n) - (n - 1) / 2 for n in shape], indexing="ij")
    r = np.sqrt((x * spacing[0]) ** 2 + (y * spacing[1]) ** 2 + (z * spacing[2]) ** 2)
    values = np.rint(-50 + 120 * np.exp(-r ** 2 / 60.0) + rng.normal(0, 25, shape))
    values[r > 9] = -800
    mask = (r <= 8).astype(np.uint8)
    return make_image(values, spacing), make_image(mask, spacing)


class InterpolationGridTest(unittest.TestCase):
    def test_centre_aligned_grid(self):
        # 5 voxels of 2 mm -> ceil(10 / 1) = 10 voxels of 1 mm; centres coincide:
        # old centre at 4 mm; new first voxel at (8 - 9) / 2 = -0.5 mm, centre at 4 mm
        size, spacing, shift = interpolation_grid((5, 4, 4), (2.0, 2.0, 2.0), (1.0, 1.0, None))
        self.assertEqual(size, [10, 8, 4])
        self.assertEqual(spacing, [1.0, 1.0, 2.0])
        self.assertAlmostEqual(shift[0], -0.5)
        self.assertAlmostEqual(shift[2], 0.0)
        # ceil of a fractional size: 5 x 0.977 / 2 = 2.44 -> 3
        size, _, shift = interpolation_grid((5, 5, 5), (0.977, 0.977, 3.0), (2.0, 2.0, 2.0))
        self.assertEqual(size, [3, 3, 8])
        # centre: (n - 1) s / 2 of the old grid = shift + (n_new - 1) s_new / 2
        self.assertAlmostEqual(shift[0] + (3 - 1) * 2.0 / 2, (5 - 1) * 0.977 / 2, places=9)

    def test_linear_resampling_keeps_a_linear_ramp_centred(self):
        ramp = np.tile(np.arange(5, dtype=float), (4, 4, 1))          # x = 0..4 along x
        image = make_image(ramp, spacing=(2.0, 2.0, 2.0))
        out = sitk.GetArrayFromImage(resample(image, (1.0, 1.0, 1.0), "linear"))
        # new x positions -0.5, 0.5, ... 8.5 mm -> old index 0 (extrapolated nearest), 0.25, ... 4
        self.assertEqual(out.shape[2], 10)
        np.testing.assert_allclose(out[0, 0, 1:-1], (np.arange(1, 9) - 0.5) / 2.0, atol=1e-9)
        self.assertAlmostEqual(out[0, 0].mean(), ramp[0, 0].mean(), places=9)  # centre preserved


class DiscretisationTest(unittest.TestCase):
    def test_fixed_bin_number_edges(self):
        values = np.array([[[0.0, 1.0, 2.0, 3.0, 4.0]]])
        mask = np.ones(values.shape, bool)
        d = discretise(values, mask, {"method": "fbn", "bins": 4})
        # floor(4 (x - 0) / 4) + 1, maximum -> N_g
        np.testing.assert_array_equal(d.levels[0, 0], [1, 2, 3, 4, 4])

    def test_fixed_bin_size_anchored_at_range_minimum(self):
        values = np.array([[[-500.0, -476.0, -475.0, -450.0, 399.0]]])
        mask = np.ones(values.shape, bool)
        d = discretise(values, mask, {"method": "fbs", "bin_width": 25.0}, reseg_range=[-500.0, 400.0])
        np.testing.assert_array_equal(d.levels[0, 0], [1, 1, 2, 3, 36])
        # without a range the ROI minimum is the anchor (IBSI), not 0 as in pyradiomics
        d = discretise(values + 3.0, mask, {"method": "fbs", "bin_width": 25.0})
        self.assertEqual(d.levels[0, 0, 0], 1)

    def test_resegmentation_range_is_closed_and_outliers_use_3_sd(self):
        values = np.array([[[-1000.0, -500.0, 0.0, 400.0, 401.0]]])
        mask = np.ones(values.shape, bool)
        out = resegment(values, mask, {"range": [-500.0, 400.0]})
        np.testing.assert_array_equal(out[0, 0], [False, True, True, True, False])
        values = np.concatenate([np.zeros(99), [1000.0]])[None, None, :]
        out = resegment(values, np.ones(values.shape, bool), {"outlier_sigma": 3.0})
        self.assertFalse(out[0, 0, -1])
        self.assertEqual(out.sum(), 99)


class SettingsTest(unittest.TestCase):
    def test_presets_resolve_and_hash_is_stable(self):
        for name in ("ibsi1_digital_phantom", "ibsi1_config_a", "ibsi1_config_b", "ibsi1_config_c",
                     "ibsi1_config_d", "ibsi1_config_e"):
            full = resolve_settings(name)
            self.assertEqual(full["preset"], name)
            self.assertEqual(settings_hash(full), settings_hash(resolve_settings(name)))
        self.assertNotEqual(settings_hash(resolve_settings("ibsi1_config_c")),
                            settings_hash(resolve_settings("ibsi1_config_d")))

    def test_manual_settings_of_the_configurations(self):
        # IBSI 1 reference manual, table of CT phantom configurations
        self.assertIsNone(PRESETS["ibsi1_config_a"]["interpolation"])
        self.assertEqual(PRESETS["ibsi1_config_b"]["interpolation"]["spacing"], [2.0, 2.0, None])
        self.assertEqual(PRESETS["ibsi1_config_e"]["interpolation"]["method"], "bspline")
        self.assertEqual(PRESETS["ibsi1_config_c"]["resegmentation"]["range"], [-1000.0, 400.0])
        self.assertIsNone(PRESETS["ibsi1_config_d"]["resegmentation"]["range"])
        self.assertEqual(PRESETS["ibsi1_config_e"]["resegmentation"]["outlier_sigma"], 3.0)
        self.assertEqual(PRESETS["ibsi1_config_c"]["ivh_discretisation"], {"method": "fbs", "bin_width": 2.5})
        self.assertEqual(PRESETS["ibsi1_config_e"]["ivh_discretisation"], {"method": "fbn", "bins": 1000})

    def test_bad_settings(self):
        with self.assertRaisesRegex(InputError, "unknown preset"):
            resolve_settings("ibsi1_config_z")
        with self.assertRaisesRegex(InputError, "unknown key"):
            resolve_settings({"bins": 32})
        with self.assertRaisesRegex(InputError, "bins must be a positive integer"):
            resolve_settings({"discretisation": {"method": "fbn", "bins": 0}})
        with self.assertRaisesRegex(InputError, "bin_width"):
            resolve_settings({"discretisation": {"method": "fbs", "bin_width": -1}})


class BadInputTest(unittest.TestCase):
    def setUp(self):
        self.image, self.mask = ct_like()

    def test_empty_mask(self):
        empty = make_image(np.zeros(sitk.GetArrayFromImage(self.mask).shape), self.mask.GetSpacing())
        with self.assertRaisesRegex(InputError, "empty"):
            compute_features(self.image, empty, {"interpolation": {"spacing": 2.0}})

    def test_mask_on_another_grid(self):
        other = make_image(sitk.GetArrayFromImage(self.mask)[:, :-1], self.mask.GetSpacing())
        with self.assertRaisesRegex(InputError, "size"):
            compute_features(self.image, other)
        shifted = make_image(sitk.GetArrayFromImage(self.mask), self.mask.GetSpacing(), origin=(500.0, 0, 0))
        with self.assertRaisesRegex(InputError, "origin"):
            compute_features(self.image, shifted)

    def test_missing_file(self):
        with self.assertRaisesRegex(InputError, "not found"):
            compute_features("/nonexistent/image.nii.gz", self.mask)

    def test_resegmentation_that_empties_the_roi(self):
        with self.assertRaisesRegex(InputError, "re-segmentation"):
            compute_features(self.image, self.mask, {"resegmentation": {"range": [5000, 6000]},
                                                     "interpolation": {"spacing": 2.0}})

    def test_one_voxel_mask_flags_texture_not_crash(self):
        one = np.zeros(sitk.GetArrayFromImage(self.mask).shape, np.uint8)
        one[6, 12, 12] = 1
        feats = compute_features(self.image, make_image(one, self.mask.GetSpacing()),
                                 {"interpolation": None, "families": ["statistics", "glcm", "ngtdm", "morphology"]})
        self.assertTrue(math.isnan(feats["cm_joint_max_3D_avg"]))
        self.assertIn("one-voxel", feats.flags["cm_joint_max_3D_avg"])
        self.assertEqual(feats["stat_range"], 0.0)
        self.assertAlmostEqual(feats["morph_vol_approx"], 2.0)         # 1 x 1 x 2 mm

    def test_anisotropic_spacing_without_resampling_flags_3d_texture(self):
        feats = compute_features(self.image, self.mask, {"families": ["glcm", "glszm"]})
        self.assertTrue(math.isnan(feats["cm_joint_max_3D_comb"]))
        self.assertIn("isotropic", feats.flags["szm_sze_3D"])
        self.assertTrue(math.isfinite(feats["cm_joint_max_2D_avg"]))   # in-plane spacing is isotropic
        feats = compute_features(self.image, self.mask, {"families": ["glcm"], "interpolation": {"spacing": 1.0}})
        self.assertTrue(math.isfinite(feats["cm_joint_max_3D_comb"]))


class ConfigurationPresetsRunTest(unittest.TestCase):
    """Configurations A-E run end to end on a CT-like image (the CT phantom values are an
    independent check, not part of CI); spot checks of what each configuration implies."""

    def test_every_configuration(self):
        image, mask = ct_like(spacing=(0.9765625, 0.9765625, 3.0))
        results = {}
        for name in ("a", "b", "c", "d", "e"):
            feats = compute_features(image, mask, f"ibsi1_config_{name}")
            results[name] = feats
            self.assertGreater(len(feats), 500)
            self.assertIn("mean_int_interp_img", feats)
        # A: no interpolation -> 2D features only; 3D flagged
        self.assertTrue(math.isnan(results["a"]["cm_joint_max_3D_avg"]))
        self.assertTrue(math.isfinite(results["a"]["cm_joint_max_2D_avg"]))
        self.assertEqual(results["a"]["vox_dim_x_interp_img"], 0.9765625)
        # B: in-plane 2 x 2 mm, slices kept; 3D texture not computed for a 2D configuration
        self.assertEqual(results["b"]["vox_dim_x_interp_img"], 2.0)
        self.assertEqual(results["b"]["vox_dim_z_interp_img"], 3.0)
        self.assertTrue(math.isnan(results["b"]["rlm_sre_3D_avg"]))
        # C-E: 2 mm isotropic, rounded intensities
        for name in "cde":
            self.assertEqual(results[name]["vox_dim_z_interp_img"], 2.0)
            self.assertTrue(math.isfinite(results[name]["cm_joint_max_3D_avg"]))
        self.assertEqual(results["c"]["img_dim_x_interp_img"], math.ceil(24 * 0.9765625 / 2.0))
        # FBN 32: at most 32 grey levels; re-segmentation range [-500, 400] in E
        self.assertLessEqual(results["d"]["ih_max"], 32)
        self.assertGreaterEqual(results["e"]["int_mask_min_int_reseg_roi"], -500)
        # morphology uses the interpolated mask, not the re-segmented one
        self.assertEqual(results["c"]["morph_mask_vox_count_reseg_roi"],
                         results["c"]["morph_mask_vox_count_interp_roi"])


if __name__ == "__main__":
    unittest.main()
