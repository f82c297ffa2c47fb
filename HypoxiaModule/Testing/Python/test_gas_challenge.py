"""Gas challenges: epochs from the paradigm, Delta R1 / Delta R2* exact on noise-free data, Welch
significance and responders with noise, T1 before/during gas via VFA, and the hypoxia classes."""
import unittest

import numpy as np

from HypoxiaModuleLib import gas_challenge, hypoxia_map, synthesis
from HypoxiaModuleLib.paradigm import GasParadigm, gas_epochs
from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.fitting import status as st

TIMES = np.arange(0.0, 540.0, 10.0)
TR, FLIP = 0.004, 5.0


class ParadigmTest(unittest.TestCase):
    def test_epochs(self):
        base, gas = gas_epochs(TIMES, GasParadigm(gas_on_s=120.0, gas_off_s=420.0, wash_in_s=60.0))
        np.testing.assert_array_equal(TIMES[base], np.arange(0.0, 120.0, 10.0))
        np.testing.assert_array_equal(TIMES[gas], np.arange(180.0, 420.0, 10.0))

    def test_bad_timing_refused(self):
        with self.assertRaises(MetadataError):
            gas_epochs(TIMES, GasParadigm())
        for paradigm in (GasParadigm(gas_on_s=600.0), GasParadigm(gas_on_s=0.0), GasParadigm(gas_on_s=120.0, gas_off_s=900.0),
                         GasParadigm(gas_on_s=120.0, gas_off_s=100.0), GasParadigm(gas_on_s=10.0),
                         GasParadigm(gas_on_s=120.0, gas_off_s=420.0, wash_in_s=295.0), GasParadigm(gas_on_s=120.0, gas="helium")):
            with self.subTest(paradigm=paradigm), self.assertRaises(InputError):
                gas_epochs(TIMES, paradigm)


class ChangeMapTest(unittest.TestCase):
    def setUp(self):
        self.paradigm = synthesis.default_paradigm()
        rng = np.random.default_rng(7)
        self.t1 = rng.uniform(0.8, 2.0, (4, 5))
        self.dr1 = rng.uniform(0.0, 0.08, (4, 5))

    def test_delta_r1_exact_noise_free(self):
        signal = synthesis.oe_dynamic(self.t1, self.dr1, 1000.0, TIMES, self.paradigm, TR, FLIP)
        out = gas_challenge.delta_r1_dynamic(signal, TIMES, self.paradigm, self.t1, TR, FLIP)
        np.testing.assert_allclose(out["dR1"], self.dr1, atol=1e-9)

    def test_delta_r1_from_vfa_t1_maps_exact(self):
        flips = np.array([2.0, 5.0, 10.0, 15.0, 20.0])
        air = synthesis.vfa(self.t1, 1000.0, flips, TR)
        gas = synthesis.vfa(1.0 / (1.0 / self.t1 + self.dr1), 1000.0, flips, TR)
        out = gas_challenge.vfa_t1_before_during(air, gas, flips, TR)
        np.testing.assert_allclose(out["dR1"], self.dr1, atol=1e-6)
        self.assertTrue(np.all(out["status"] == st.OK))
        with self.assertRaisesRegex(InputError, "different grids"):
            gas_challenge.delta_r1_from_t1(self.t1, self.t1[:2])

    def test_delta_r1_from_ir_and_look_locker_exact(self):
        from TMEMonitorLib.relaxometry.inversion_recovery import inversion_recovery_signal
        from TMEMonitorLib.relaxometry.look_locker import look_locker_signal
        t1_gas = 1.0 / (1.0 / self.t1 + self.dr1)
        ti_air = np.array([0.05, 0.15, 0.4, 0.9, 1.8, 3.5])
        ti_gas = np.array([0.1, 0.3, 0.7, 1.5, 3.0])            # the two acquisitions may differ
        air = inversion_recovery_signal(500.0, -950.0, self.t1, ti_air)
        gas = inversion_recovery_signal(500.0, -950.0, t1_gas, ti_gas)
        out = gas_challenge.t1_before_during(air, gas, ti_air, ti_gas, method="ir")
        np.testing.assert_allclose(out["dR1"], self.dr1, atol=1e-6)
        np.testing.assert_allclose(out["T1_air"], self.t1, rtol=1e-6)
        self.assertTrue(np.all(out["status"] == st.OK))
        # Look-Locker: apparent T1* = T1 / (B/A - 1) with B/A = 1.8
        times = np.linspace(0.1, 4.0, 12)
        air = look_locker_signal(100.0, 180.0, self.t1 / 0.8, times)
        gas = look_locker_signal(100.0, 180.0, t1_gas / 0.8, times)
        out = gas_challenge.t1_before_during(air, gas, times, times, method="look-locker")
        np.testing.assert_allclose(out["dR1"], self.dr1, atol=1e-6)
        with self.assertRaisesRegex(InputError, "different grids"):
            gas_challenge.t1_before_during(air, gas[:2], times, times, method="look-locker")
        with self.assertRaisesRegex(InputError, "inversion times are missing"):
            gas_challenge.t1_before_during(air, gas, times, None, method="ir")
        with self.assertRaisesRegex(InputError, "11 value"):
            gas_challenge.t1_before_during(air, gas, times, times[:-1], method="ir")
        with self.assertRaisesRegex(InputError, "repetition time"):
            gas_challenge.t1_before_during(air, gas, times, times, method="vfa")

    def test_delta_r2star_exact_noise_free(self):
        dr2s = np.linspace(-5.0, 2.0, 20).reshape(4, 5)
        signal = synthesis.bold_dynamic(40.0 + 0 * dr2s, dr2s, 1000.0, TIMES, self.paradigm, 0.02)
        out = gas_challenge.delta_r2star_dynamic(signal, TIMES, self.paradigm, 0.02)
        np.testing.assert_allclose(out["dR2star"], dr2s, atol=1e-9)
        with self.assertRaises(InputError):
            gas_challenge.delta_r2star_dynamic(signal, TIMES, self.paradigm, None)

    def test_significance_and_responders_with_noise(self):
        rng = np.random.default_rng(8)
        n = 4000
        dr1 = np.where(np.arange(n) < n // 2, 0.05, 0.0)
        signal = synthesis.oe_dynamic(np.full(n, 1.5), dr1, 1000.0, TIMES, self.paradigm, TR, 15.0,
                                      noise_sigma=0.2, rng=rng, wash_in_tau_s=15.0)   # SNR ~100
        out = gas_challenge.delta_r1_dynamic(signal, TIMES, self.paradigm, 1.5, TR, 15.0)
        responders = out["responder"]
        self.assertGreater(responders[: n // 2].mean(), 0.95)          # power
        self.assertLess(responders[n // 2:].mean(), 0.05)              # false positives <= alpha (one direction)
        frac = gas_challenge.responder_fraction(responders, np.ones(n, bool), out["status"])
        self.assertAlmostEqual(frac, responders.mean())
        self.assertLess(abs(np.nanmean(out["dR1"][: n // 2]) - 0.05) / 0.05, 0.05)


class HypoxiaClassTest(unittest.TestCase):
    def test_classes_and_fractions(self):
        enhancing = np.array([True, True, True, False, False])
        oxy = np.array([True, False, False, False, True])
        analysed = np.array([True, True, True, True, False])
        labels = hypoxia_map.classify(enhancing, oxy, analysed)
        np.testing.assert_array_equal(labels, [2, 3, 3, 1, 0])
        fractions = hypoxia_map.class_fractions(labels, np.ones(5, bool))
        self.assertAlmostEqual(fractions["hypoxic_fraction"], 0.5)
        self.assertAlmostEqual(fractions["hypoxic_fraction_of_perfused"], 2 / 3)
        self.assertAlmostEqual(fractions["non_perfused_fraction"], 0.25)
        with self.assertRaises(InputError):
            hypoxia_map.enhancing_from_map(np.ones(3), None)

    def test_phantom_core_shrinks_in_responder_only(self):
        sizes = [synthesis.hypoxia_phantom(visit=v, responder=True).hypoxic.sum() for v in range(3)]
        flat = [synthesis.hypoxia_phantom(visit=v, responder=False).hypoxic.sum() for v in range(3)]
        self.assertTrue(sizes[0] > sizes[1] > sizes[2])
        self.assertEqual(len(set(flat)), 1)


if __name__ == "__main__":
    unittest.main()


class ImplausibleValuesTest(unittest.TestCase):
    """A physically impossible fitted value (limits from the quantity registry) is flagged in its fit's
    status map, as for the DCE and diffusion fits; R2' (may be negative from noise) is not."""

    def test_negative_t1_and_t2star_are_implausible(self):
        from types import SimpleNamespace

        from HypoxiaModuleLib import pipeline
        from TMEMonitorLib.fitting import status as st
        ok = np.zeros((1, 1, 3), st.DTYPE)
        analysis = SimpleNamespace(
            maps={"R2star": np.array([[[20.0, 30.0, 40.0]]]), "T2star": np.array([[[50.0, -1.0, 25.0]]]),
                  "T1_air": np.array([[[1.2, 1.3, -0.5]]]), "R2prime": np.array([[[-3.0, 1.0, 2.0]]])},
            status={"R2star": ok.copy(), "T1_air": ok.copy(), "R2prime": ok.copy()})
        pipeline.flag_implausible(analysis)
        np.testing.assert_array_equal(analysis.status["R2star"][0, 0], [st.OK, st.IMPLAUSIBLE, st.OK])
        np.testing.assert_array_equal(analysis.status["T1_air"][0, 0], [st.OK, st.OK, st.IMPLAUSIBLE])
        np.testing.assert_array_equal(analysis.status["R2prime"][0, 0], [st.OK, st.OK, st.OK])
