"""The phantom's hypoxia and elastography truth: added without changing any earlier output (labels,
misalignment, every earlier truth map and summary value are bit-identical; R2* differs only where the
responder's hypoxic shell has re-oxygenated), self-consistent, and changing in the stated directions."""
import hashlib
import json
import unittest

import numpy as np

from TMEMonitorLib.phantom import LABELS, make_patient

# Truth keys and summary keys the phantom had before the hypoxia/elastography additions.
EARLIER_TRUTH = ("ADC", "D", "Dstar", "K", "Ktrans", "M0", "R2star", "S0_dwi", "T10_s", "f", "kep", "metabolites_mM",
                 "ve", "vp")
EARLIER_SUMMARY = ("ADC_mean", "Cit_mM", "Cr_mM", "D_mean", "Dstar_mean", "GPC_mM", "K_mean", "Ktrans_mean", "Lac_mM",
                   "NAA_mM", "PCh_mM", "PCr_mM", "R2star_mean", "T10_s_mean", "f_mean", "hypoxic_volume_ml", "kep_mean",
                   "longest_diameter_mm", "necrotic_volume_ml", "tCho/tCr", "tCho_mM", "tCr_mM", "ve_mean",
                   "viable_rim_volume_ml", "volume_ml", "vp_mean")
# SHA-256 of those outputs computed with the phantom before the additions (R2* of the responder's
# follow-up visits left out: re-oxygenation is the intended change).
EARLIER_DIGESTS = {((4, 32, 32), 0, True): "faee0cd4bd7602bb5373879fe9d4bdb96ffb58ee8117606afcbedcc590559fe4",
                   ((4, 32, 32), 3, False): "51bffbf7f582d873786476e21e96b23c11dc03e0f717895998bdc81a066627ef",
                   ((8, 64, 64), 2, True): "d1713f9da174c32a33fc06f32f5b096a7906252f2cbdb1d6b1f527beea9cb962"}


def earlier_digest(patient):
    digest = hashlib.sha256()
    for visit in patient.visits:
        digest.update(np.ascontiguousarray(visit.labels).tobytes())
        digest.update(np.ascontiguousarray(visit.misalignment).tobytes())
        follow_up = patient.responder and visit.name != "baseline"
        for key in sorted(EARLIER_TRUTH):
            if key == "metabolites_mM":
                digest.update(json.dumps(visit.truth[key], sort_keys=True).encode())
            elif not (key == "R2star" and follow_up):
                digest.update(key.encode())
                digest.update(np.ascontiguousarray(visit.truth[key]).tobytes())
        for key in sorted(EARLIER_SUMMARY):
            if not (key == "R2star_mean" and follow_up):
                digest.update(key.encode())
                digest.update(repr(visit.truth_summary[key]).encode())
    return digest.hexdigest()


class PhantomTruthAdditionsTest(unittest.TestCase):
    def test_earlier_outputs_are_bit_identical(self):
        for (shape, seed, responder), expected in EARLIER_DIGESTS.items():
            patient = make_patient(shape=shape, n_visits=3, seed=seed, responder=responder)
            self.assertEqual(earlier_digest(patient), expected, (shape, seed, responder))

    def test_r2star_changes_only_where_the_hypoxic_shell_reoxygenated(self):
        responder = make_patient(shape=(4, 32, 32), n_visits=3, seed=0, responder=True)
        baseline_values = {LABELS["hypoxic"]: 55.0, LABELS["viable_rim"]: 35.0}
        for visit in responder.visits:
            hypoxic = visit.labels == LABELS["hypoxic"]
            refractory = visit.truth["perfused_oxy_r"] > 0
            self.assertTrue(np.all(refractory <= hypoxic))            # the refractory shell lies in the habitat
            np.testing.assert_array_equal(visit.truth["R2star"][refractory], baseline_values[LABELS["hypoxic"]])
            np.testing.assert_array_equal(visit.truth["R2star"][hypoxic & ~refractory], 35.0)
            np.testing.assert_array_equal(visit.truth["dR1"][refractory], 0.0)
            np.testing.assert_array_equal(visit.truth["dR1"][visit.labels == LABELS["necrotic"]], 0.0)
            body = visit.labels > 0
            np.testing.assert_allclose(visit.truth["T2star_ms"][body] * visit.truth["R2star"][body], 1000.0, rtol=1e-6)
        self.assertTrue(np.all(responder.visits[0].truth["perfused_oxy_r"][
            responder.visits[0].labels == LABELS["hypoxic"]] == 1))  # baseline: the whole shell is refractory

    def test_responder_reoxygenates_and_softens_non_responder_does_not(self):
        responder = [v.truth_summary for v in make_patient(shape=(4, 32, 32), n_visits=3, seed=0).visits]
        other = [v.truth_summary for v in make_patient(shape=(4, 32, 32), n_visits=3, seed=0, responder=False).visits]
        for key in ("hypoxic_fraction", "R2star_mean", "abs_G_mean"):
            self.assertGreater(responder[0][key], responder[1][key], key)
            self.assertGreater(responder[1][key], responder[2][key], key)
        self.assertGreater(other[2]["perfused_oxy_r_volume_ml"], other[0]["perfused_oxy_r_volume_ml"])
        self.assertGreater(other[2]["abs_G_mean"] / other[0]["abs_G_mean"], 0.95)
        self.assertAlmostEqual(responder[0]["abs_G_kPa_mean"], responder[0]["abs_G_mean"] / 1000.0)

    def test_tumour_stiffer_than_surroundings_and_wave_speed_consistent(self):
        visit = make_patient(shape=(4, 32, 32), n_visits=1, seed=1).visits[0]
        truth = visit.truth
        self.assertGreater(truth["abs_G"][visit.labels == LABELS["viable_rim"]].min(),
                           2.5 * truth["abs_G"][visit.labels == LABELS["normal"]].max())
        body = visit.labels > 0
        expected = np.sqrt(truth["abs_G"][body] / 1000.0) / np.cos(truth["phi"][body] / 2)
        np.testing.assert_allclose(truth["wave_speed"][body], expected, rtol=1e-6)


if __name__ == "__main__":
    unittest.main()
