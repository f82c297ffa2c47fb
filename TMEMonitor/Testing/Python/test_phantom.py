"""The digital reference object: determinism, habitat structure, therapy trend, misalignment.
(Each technique's synthetic acquisition is tested in its module: test_dce_synthesis, test_dwi_synthesis.)"""
import unittest

import numpy as np

from TMEMonitorLib.longitudinal.lesion_measurements import longest_diameter_mm, volume_ml
from TMEMonitorLib.phantom import LABELS, make_patient


class PhantomTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.patient = make_patient(shape=(6, 48, 48), seed=4)

    def test_deterministic_for_a_seed(self):
        again = make_patient(shape=(6, 48, 48), seed=4)
        for a, b in zip(self.patient.visits, again.visits):
            np.testing.assert_array_equal(a.labels, b.labels)
            np.testing.assert_array_equal(a.truth["Ktrans"], b.truth["Ktrans"])

    def test_habitats_nested_and_truth_follows_labels(self):
        visit = self.patient.visits[0]
        for label in ("viable_rim", "hypoxic", "necrotic", "artery", "normal"):
            self.assertTrue(np.any(visit.labels == LABELS[label]), label)
        rim = visit.truth["Ktrans"][visit.labels == LABELS["viable_rim"]]
        necrotic = visit.truth["Ktrans"][visit.labels == LABELS["necrotic"]]
        self.assertGreater(rim.min(), necrotic.max())
        self.assertTrue(np.all(visit.truth["Ktrans"][visit.labels == 0] == 0))

    def test_responder_trend(self):
        summaries = [v.truth_summary for v in self.patient.visits]
        self.assertTrue(summaries[0]["necrotic_volume_ml"] < summaries[1]["necrotic_volume_ml"] < summaries[2]["necrotic_volume_ml"])
        self.assertTrue(summaries[0]["Ktrans_mean"] > summaries[1]["Ktrans_mean"] > summaries[2]["Ktrans_mean"])
        self.assertTrue(summaries[0]["ADC_mean"] < summaries[1]["ADC_mean"] < summaries[2]["ADC_mean"])
        self.assertTrue(summaries[0]["volume_ml"] > summaries[2]["volume_ml"])
        self.assertLess(summaries[2]["tCho_mM"], summaries[0]["tCho_mM"])

    def test_non_responder_grows(self):
        patient = make_patient(shape=(6, 48, 48), seed=4, responder=False)
        self.assertGreater(patient.visits[2].truth_summary["volume_ml"], patient.visits[0].truth_summary["volume_ml"])

    def test_misalignment_maps_baseline_onto_visit(self):
        unmoved = make_patient(shape=(6, 48, 48), seed=4, misalignment=False)
        moved = self.patient.visits[1]
        self.assertFalse(np.allclose(moved.misalignment, np.eye(4)))
        # Body voxels of the moved visit, mapped back through the transform, land in the unmoved body.
        k, j, i = np.nonzero(moved.labels > 0)
        ras = np.stack([i, j, k, np.ones_like(i)]).T @ moved.ijk_to_ras.T
        back = ras @ np.linalg.inv(moved.misalignment).T @ np.linalg.inv(moved.ijk_to_ras).T
        index = np.round(back[:, :3]).astype(int)
        inside = np.all((index >= 0) & (index < np.array(moved.labels.shape)[::-1]), axis=1)
        labels = unmoved.visits[1].labels[index[inside, 2], index[inside, 1], index[inside, 0]]
        self.assertGreater(np.mean(labels > 0), 0.97)

    def test_measurements_on_hand_shapes(self):
        ijk = np.diag([2.0, 2.0, 5.0, 1.0])
        rectangle = np.zeros((2, 20, 20), bool)
        rectangle[1, 2:5, 3:11] = True                    # 8 x 3 voxels: corners 7 and 2 voxels apart
        self.assertAlmostEqual(longest_diameter_mm(rectangle, ijk), 2.0 * np.hypot(7, 2))
        self.assertAlmostEqual(volume_ml(rectangle, ijk), 24 * 20.0 / 1000.0)
        y, x = np.mgrid[:41, :41]
        disk = ((x - 20) ** 2 + (y - 20) ** 2 <= 100)[None]
        self.assertAlmostEqual(longest_diameter_mm(disk, np.eye(4)), 20.0)


if __name__ == "__main__":
    unittest.main()
