"""Inputless kPL fit against simulated truth (an independent matrix-exponential forward model),
the flip-angle unit guard, model-free metrics and bad input."""
import unittest

import numpy as np

from HyperpolarizedModuleLib import flip_angles, kinetics, synthesis
from HyperpolarizedModuleLib.input_function import fit_kpl_with_input
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.fitting import status as st

TR, N = 3.0, 20
KPL = np.array([0.005, 0.02, 0.05, 0.1, 0.3])


def schedules():
    vfa = synthesis.variable_flip_schedule(N, 90.0, 1 / 30, TR)
    return {"constant": (20.0, 30.0),
            "variable": (vfa, np.linspace(15.0, 40.0, N)),
            "multi-excitation constant": (np.full((N, 8), 5.0), np.full((N, 8), 10.0)),
            "multi-excitation variable": (np.outer(np.linspace(3.0, 8.0, N), np.ones(6)),
                                          np.outer(np.linspace(6.0, 15.0, N), np.ones(6)))}


class NoiseFreeRecoveryTest(unittest.TestCase):
    def test_kpl_recovered_for_every_schedule(self):
        for name, (fp, fl) in schedules().items():
            with self.subTest(schedule=name):
                d = synthesis.simulate(KPL, TR, N, fp, fl, s0_lactate=0.2)
                fit = kinetics.fit_kpl(d["pyruvate"], d["lactate"], TR, fp, fl)
                np.testing.assert_allclose(fit["kPL"], KPL, rtol=1e-4)
                np.testing.assert_allclose(fit["S0_lactate"], 0.2, rtol=1e-4)
                np.testing.assert_array_equal(fit["status"], st.OK)
                self.assertTrue(np.all(fit["r2"] > 0.999999))
                np.testing.assert_allclose(fit["lactate_fit"], d["lactate"], rtol=1e-6, atol=1e-12)

    def test_multi_excitation_scaling_matters(self):
        """Fitting multi-excitation data as if each frame had one pulse gives a wrong kPL."""
        fp, fl = np.full((N, 8), 5.0), np.full((N, 8), 10.0)
        d = synthesis.simulate(KPL, TR, N, fp, fl)
        wrong = kinetics.fit_kpl(d["pyruvate"], d["lactate"], TR, 5.0, 10.0)
        self.assertTrue(np.all(np.abs(wrong["kPL"] / KPL - 1) > 0.05))

    def test_kpb_kpa_recovered(self):
        for name, (fp, fl) in schedules().items():
            with self.subTest(schedule=name):
                d = synthesis.simulate(KPL, TR, N, fp, fl, kpb=KPL / 4, kpa=KPL / 2, flip_bicarbonate_deg=fl,
                                       flip_alanine_deg=fl)
                fit = kinetics.fit_kpl(d["pyruvate"], d["lactate"], TR, fp, fl, bicarbonate=d["bicarbonate"],
                                       alanine=d["alanine"], flip_bicarbonate_deg=fl, flip_alanine_deg=fl)
                np.testing.assert_allclose(fit["kPL"], KPL, rtol=1e-4)
                np.testing.assert_allclose(fit["kPB"], KPL / 4, rtol=1e-4)
                np.testing.assert_allclose(fit["kPA"], KPL / 2, rtol=1e-4)

    def test_fitted_r1_lactate_and_pyruvate(self):
        kpl = np.array([0.03, 0.08])
        d = synthesis.simulate(kpl, 2.0, 30, 15.0, 25.0, r1={"lactate": 1 / 20, "pyruvate": 1 / 40})
        fit = kinetics.fit_kpl(d["pyruvate"], d["lactate"], 2.0, 15.0, 25.0, r1_pyruvate=1 / 40, fit_r1_lactate=True)
        np.testing.assert_allclose(fit["kPL"], kpl, rtol=1e-4)
        np.testing.assert_allclose(fit["R1L"], 1 / 20, rtol=1e-4)
        fit = kinetics.fit_kpl(d["pyruvate"], d["lactate"], 2.0, 15.0, 25.0, r1_lactate=1 / 20, fit_r1_pyruvate=True)
        np.testing.assert_allclose(fit["kPL"], kpl, rtol=1e-4)

    def test_frames_without_excitation(self):
        """A frame with flip 0 (sin theta = 0) carries no information: no division by zero, truth kept."""
        fp = np.full(N, 20.0)
        fl = np.full(N, 30.0)
        fp[5] = 0.0
        fl[9] = 0.0
        d = synthesis.simulate(KPL, TR, N, fp, fl)
        with np.errstate(all="raise"):
            fit = kinetics.fit_kpl(d["pyruvate"], d["lactate"], TR, fp, fl)
        np.testing.assert_allclose(fit["kPL"], KPL, rtol=1e-4)

    def test_complex_data_phase_removed(self):
        d = synthesis.simulate(KPL, TR, N, 20.0, 30.0, complex_data=True, phase_rad=1.1)
        fit = kinetics.fit_kpl(d["pyruvate"], d["lactate"], TR, 20.0, 30.0)
        np.testing.assert_allclose(fit["kPL"], KPL, rtol=1e-4)

    def test_leading_dims_and_mask(self):
        kpl = np.linspace(0.01, 0.2, 24).reshape(2, 3, 4)
        d = synthesis.simulate(kpl, TR, N, 20.0, 30.0)
        mask = kpl > 0.05
        fit = kinetics.fit_kpl(d["pyruvate"], d["lactate"], TR, 20.0, 30.0, mask=mask)
        self.assertEqual(fit["kPL"].shape, (2, 3, 4))
        np.testing.assert_allclose(fit["kPL"][mask], kpl[mask], rtol=1e-4)
        self.assertTrue(np.all(np.isnan(fit["kPL"][~mask])))
        np.testing.assert_array_equal(fit["status"][~mask], st.MASKED)

    def test_input_function_boxcar_recovered(self):
        d = synthesis.simulate(KPL, TR, N, 20.0, 30.0, arrival_s=3.0, duration_s=9.0, rate=2.0)
        fit = fit_kpl_with_input(d["pyruvate"], d["lactate"], TR, 20.0, 30.0, input_shape="boxcar")
        np.testing.assert_allclose(fit["kPL"], KPL, rtol=1e-4)
        np.testing.assert_allclose(fit["arrival_s"], 3.0, rtol=1e-4)

    def test_input_function_gamma_close(self):
        """Gamma arrival: the fit's piecewise-constant input (8 pieces per TR) differs slightly from the
        synthesis' (1 piece per TR); kPL within 2 %."""
        d = synthesis.simulate(KPL[1:4], TR, N, 20.0, 30.0, input_shape="gamma", arrival_s=1.0, rate=2.0)
        fit = fit_kpl_with_input(d["pyruvate"], d["lactate"], TR, 20.0, 30.0, input_shape="gamma")
        np.testing.assert_allclose(fit["kPL"], KPL[1:4], rtol=0.02)


class NoiseAndStatusTest(unittest.TestCase):
    def test_low_snr_voxels_flagged_not_fitted(self):
        kpl = np.array([0.05, 0.05])
        d = synthesis.simulate(kpl, TR, N, 20.0, 30.0)
        pyr, lac = d["pyruvate"].copy(), d["lactate"].copy()
        pyr[1] *= 1e-3
        lac[1] *= 1e-3
        sigma = float(pyr[0].max() / 50)
        fit = kinetics.fit_kpl(pyr, lac, TR, 20.0, 30.0, noise_sigma=sigma)
        self.assertEqual(fit["status"][1], st.NO_SIGNAL)
        self.assertTrue(np.isnan(fit["kPL"][1]))
        self.assertEqual(fit["status"][0], st.OK)
        self.assertAlmostEqual(fit["snr"][0], 50.0, places=6)

    def test_noisy_fit_uncertainty_covers_truth(self):
        rng = np.random.default_rng(1)
        kpl = np.full(400, 0.05)
        d = synthesis.simulate(kpl, TR, N, 20.0, 30.0, snr=40, complex_data=True, rng=rng)
        fit = kinetics.fit_kpl(d["pyruvate"], d["lactate"], TR, 20.0, 30.0)
        inside = (fit["kPL_ci95_low"] <= 0.05) & (0.05 <= fit["kPL_ci95_high"])
        self.assertGreater(inside.mean(), 0.85)
        self.assertLess(abs(np.median(fit["kPL"]) / 0.05 - 1), 0.05)
        self.assertTrue(np.all(np.isfinite(fit["nrmse"])))

    def test_rician_model_reduces_magnitude_bias(self):
        rng = np.random.default_rng(2)
        kpl = np.full(300, 0.02)
        d = synthesis.simulate(kpl, TR, N, 10.0, 20.0, snr=15, rng=rng)
        plain = kinetics.fit_kpl(d["pyruvate"], d["lactate"], TR, 10.0, 20.0)
        rician = kinetics.fit_kpl(d["pyruvate"], d["lactate"], TR, 10.0, 20.0, noise_model="rician",
                                  noise_sigma=d["sigma"])
        self.assertLess(abs(np.median(rician["kPL"]) - 0.02), abs(np.median(plain["kPL"]) - 0.02))


class FlipAngleUnitsTest(unittest.TestCase):
    def test_radians_given_as_degrees_fail_loudly(self):
        d = synthesis.simulate(KPL, TR, N, 20.0, 30.0)
        for fp, fl in ((np.radians(20.0), 30.0), (20.0, np.full(N, np.radians(30.0))),
                       (np.radians(synthesis.variable_flip_schedule(N, 90.0)), 30.0)):
            with self.assertRaises(InputError) as context:
                kinetics.fit_kpl(d["pyruvate"], d["lactate"], TR, fp, fl)
            self.assertIn("radians", str(context.exception))
            self.assertIn("degrees", str(context.exception))

    def test_explicit_radian_unit_converted(self):
        np.testing.assert_allclose(flip_angles.to_degrees([np.pi / 2], "rad", "x"), [90.0])
        with self.assertRaises(InputError):
            flip_angles.to_degrees([1.0], "grad", "x")

    def test_scaling_factors(self):
        s, m = flip_angles.scaling_factors(np.array([[90.0], [30.0]]))
        np.testing.assert_allclose(s, [1.0, 0.5])
        np.testing.assert_allclose(m, [0.0, np.cos(np.radians(30))], atol=1e-15)
        s, m = flip_angles.scaling_factors(np.array([[60.0, 60.0]]))
        np.testing.assert_allclose(s, [(np.sin(np.pi / 3) * (1 + 0.5)) / 2])
        np.testing.assert_allclose(m, [0.25])


class ModelFreeTest(unittest.TestCase):
    def test_auc_ratio_exact(self):
        rng = np.random.default_rng(3)
        p, lac = rng.random((4, 5, 12)), rng.random((4, 5, 12))
        np.testing.assert_array_equal(kinetics.auc_ratio(p, lac), lac.sum(-1) / p.sum(-1))
        self.assertEqual(float(kinetics.auc_ratio([1.0, 2.0, 5.0], [0.5, 1.0, 0.5])), 0.25)
        with np.errstate(all="raise"):
            self.assertTrue(np.isnan(kinetics.auc_ratio(np.zeros(5), np.ones(5))))
        with self.assertRaises(InputError):
            kinetics.auc_ratio(np.ones(5), np.ones(6))

    def test_time_to_peak_and_mean_time(self):
        s = np.array([0.0, 1.0, 3.0, 2.0, 0.0])
        self.assertEqual(float(kinetics.time_to_peak(s, 2.0)), 4.0)
        self.assertAlmostEqual(float(kinetics.mean_time(s, 2.0)), (2 + 12 + 12) / 6.0)


class BadInputTest(unittest.TestCase):
    def setUp(self):
        d = synthesis.simulate(KPL, TR, N, 20.0, 30.0)
        self.p, self.l = d["pyruvate"], d["lactate"]

    def test_errors_name_the_input(self):
        cases = [((self.p, self.l, TR, np.full(N - 1, 20.0), 30.0), "flip_pyruvate_deg"),
                 ((self.p, self.l, TR, 20.0, np.full((N + 2, 3), 30.0)), "flip_lactate_deg"),
                 ((self.p, self.l, None, 20.0, 30.0), "tr_s"),
                 ((self.p, self.l, 3000.0, 20.0, 30.0), "tr_s"),
                 ((self.p, self.l[:, :-1], TR, 20.0, 30.0), "lactate"),
                 ((self.p, self.l[:3], TR, 20.0, 30.0), "lactate"),
                 ((self.p, self.l, TR, 0.0, 30.0), "flip_pyruvate_deg"),
                 ((self.p, self.l, TR, 200.0, 30.0), "flip_pyruvate_deg")]
        for args, name in cases:
            with self.subTest(name=name), self.assertRaises(InputError) as context:
                kinetics.fit_kpl(*args)
            self.assertIn(name, str(context.exception))
        with self.assertRaises(InputError):
            kinetics.fit_kpl(self.p, self.l, TR, 20.0, 30.0, noise_model="rician")
        with self.assertRaises(InputError):
            kinetics.fit_kpl(self.p, self.l, TR, 20.0, 30.0, mask=np.ones(3, bool))

    def test_no_pyruvate_is_no_signal(self):
        fit = kinetics.fit_kpl(np.zeros((2, N)), np.zeros((2, N)), TR, 20.0, 30.0)
        np.testing.assert_array_equal(fit["status"], st.NO_SIGNAL)
        self.assertTrue(np.all(np.isnan(fit["kPL"])))


if __name__ == "__main__":
    unittest.main()
