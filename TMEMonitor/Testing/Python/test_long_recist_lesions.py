"""Multi-lesion RECIST 1.1 in the dashboard, on a real headless scene: lesions matched to baseline
by overlap (not by name or order), per-lesion longest diameters, the target sum, and a new lesion
making the visit progressive disease; lesion identity kept in the lesion table."""
import unittest

import numpy as np

from TMEMonitorApp import dashboard
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.longitudinal import target_lesions
from TMEMonitorLib.scene import hierarchy

SHAPE = (16, 64, 80)
IJK_TO_RAS = np.diag([1.0, 1.0, 2.0, 1.0])
IJK_TO_RAS[:3, 3] = [-40.0, -32.0, -14.0]


def ball(centre, radius):
    k, j, i = np.meshgrid(*[np.arange(n) for n in SHAPE], indexing="ij")
    ras = np.stack([i, j, k, np.ones_like(i)], -1) @ IJK_TO_RAS.T
    return np.linalg.norm(ras[..., :3] - np.array(centre, float), axis=-1) <= radius


A, B, C = (-20.0, 0.0, 0.0), (20.0, 0.0, 0.0), (0.0, 20.0, 0.0)


def segmentation(scene, name, lesions):
    """Segmentation node with one named segment per (name, mask), in that order."""
    labels = np.zeros(SHAPE, np.uint8)
    for index, (_, mask) in enumerate(lesions, start=1):
        labels[mask] = index
    label_node = tme_scene.add_label_map(scene, labels, IJK_TO_RAS, name + " labels")
    node = tme_scene.labelmap_to_segmentation(scene, label_node, name)
    scene.RemoveNode(label_node)
    seg = node.GetSegmentation()
    for index, (segment_name, _) in enumerate(lesions):
        seg.GetNthSegment(index).SetName(segment_name)
    return node


class MultiLesionRecistTest(unittest.TestCase):
    def setUp(self):
        self.scene = tme_scene.create_scene()
        self.addCleanup(tme_scene.release_scene, self.scene)
        self.patient = hierarchy.add_patient(self.scene, "Two lesions", treatment_start="2026-01-05")
        anatomy = np.zeros(SHAPE, np.float32)
        anatomy[ball((0, 0, 0), 30)] = 100.0
        self.anatomy = anatomy

    def add_visit(self, name, date, tumour_node):
        item = dashboard.add_visit(self.scene, self.patient, name, date)
        volume = tme_scene.array_to_volume(self.scene, self.anatomy, IJK_TO_RAS, f"{name} anatomy")
        for node, role in ((volume, "anatomy"), (tumour_node, "tumour")):
            node.SetAttribute(dashboard.ROLE, role)
            hierarchy.place(self.scene, node, item)
        return item

    def test_one_shrinks_one_unchanged_then_a_new_lesion(self):
        s = self.scene
        self.add_visit("baseline", "2026-01-05",
                       segmentation(s, "baseline tumour", [("liver A", ball(A, 10)), ("liver B", ball(B, 8))]))
        # Week 6: A shrinks to 3 mm radius, B unchanged; segments in the other order and renamed.
        self.add_visit("week 6", "2026-02-16",
                       segmentation(s, "week 6 tumour", [("first", ball(B, 8)), ("second", ball(A, 3))]))
        # Week 12: as week 6, plus a new lesion C.
        self.add_visit("week 12", "2026-03-30",
                       segmentation(s, "week 12 tumour", [("first", ball(B, 8)), ("second", ball(A, 3)),
                                                          ("third", ball(C, 4))]))
        response = dashboard.compute_response(s, self.patient)
        info = response.data["target_lesions"]
        self.assertEqual(info["names"], ["liver A", "liver B"])                 # largest first
        visits = {v["name"]: v for v in response.data["visits"]}
        lesions = {v: {m["lesion"]: m for m in visits[v]["lesions"]} for v in visits}
        self.assertEqual(lesions["baseline"]["liver A"]["longest_diameter_mm"], 20.0)
        self.assertEqual(lesions["baseline"]["liver B"]["longest_diameter_mm"], 16.0)
        self.assertEqual(lesions["week 6"]["liver A"]["name_at_visit"], "second")   # matched by overlap
        self.assertEqual(lesions["week 6"]["liver A"]["longest_diameter_mm"], 6.0)
        self.assertEqual(lesions["week 6"]["liver B"]["name_at_visit"], "first")
        self.assertEqual(lesions["week 6"]["liver B"]["longest_diameter_mm"], 16.0)
        self.assertEqual(lesions["week 12"]["third"]["status"], "new")
        self.assertEqual([visits[v]["new_lesions"] for v in ("baseline", "week 6", "week 12")], [0, 0, 1])
        sums = [visits[v]["biomarkers"]["recist_sum_mm"]["measured"] for v in ("baseline", "week 6", "week 12")]
        self.assertEqual(sums, [36.0, 22.0, 22.0])                         # the new lesion is not a target
        recist = [c for c in response.calls if c.criterion == "RECIST 1.1"]
        self.assertEqual([c.category for c in recist], ["PR", "PD"])       # -38.9 %, then a new lesion
        self.assertEqual(recist[1].reason, "new lesion")
        self.assertTrue(recist[1].numbers["new_lesion"])
        self.assertFalse(recist[0].confirmed)                               # PD refutes the PR
        # Lesion identity in the lesion table (one row per visit and lesion) and the biomarker table.
        table = tme_scene.table_to_columns(response.lesion_table_node)
        rows = list(zip(table["visit"], table["lesion"], table["name at visit"], table["status"], table["target"]))
        self.assertIn(("week 6", "liver A", "second", "matched", "yes"), rows)
        self.assertIn(("week 12", "third", "third", "new", "no"), rows)
        self.assertEqual(len(rows), 2 + 2 + 3)
        biomarkers = tme_scene.table_to_columns(response.table_node)
        self.assertEqual(list(biomarkers["new lesions"]), [0, 0, 1])
        self.assertEqual(list(biomarkers["recist_sum_mm"]), [36.0, 22.0, 22.0])
        # The change chart plots the target sum beside the largest lesion's diameter.
        np.testing.assert_allclose(response.figures.percent_series["recist_sum_mm"],
                                   [0.0, (22 - 36) / 36 * 100, (22 - 36) / 36 * 100], atol=0.1)

    def test_connected_components_of_a_label_map_and_disappearance(self):
        s = self.scene
        base = tme_scene.add_label_map(s, (ball(A, 10) | ball(B, 8)).astype(np.uint8), IJK_TO_RAS, "base tumour")
        self.add_visit("baseline", "2026-01-05", base)
        follow = tme_scene.add_label_map(s, ball(B, 8).astype(np.uint8), IJK_TO_RAS, "week 6 tumour")
        self.add_visit("week 6", "2026-02-16", follow)
        response = dashboard.compute_response(s, self.patient)
        self.assertEqual(response.data["target_lesions"]["names"], ["lesion 1", "lesion 2"])
        week6 = {m["lesion"]: m for m in response.data["visits"][1]["lesions"]}
        self.assertEqual(week6["lesion 1"]["status"], "disappeared")
        self.assertEqual(week6["lesion 1"]["longest_diameter_mm"], 0.0)
        self.assertEqual(week6["lesion 2"]["longest_diameter_mm"], 16.0)
        recist = [c for c in response.calls if c.criterion == "RECIST 1.1"]
        self.assertEqual(recist[0].category, "PR")                          # 36 -> 16 mm


class TargetLesionUnitTest(unittest.TestCase):
    def test_selection_fragments_and_new(self):
        lesions = [target_lesions.LesionMeasurement(n, n, "baseline", d, 1.0)
                   for n, d in (("a", 30), ("b", 25), ("c", 20), ("d", 15), ("e", 12), ("f", 11), ("g", 5))]
        names, note = target_lesions.select_targets(lesions)
        self.assertEqual(names, ["a", "b", "c", "d", "e"])                 # at most 5, largest first
        self.assertEqual(note, "")
        names, _ = target_lesions.select_targets(lesions, organs={"a": "liver", "b": "liver", "c": "liver"})
        self.assertEqual(names, ["a", "b", "d", "e", "f"])                 # at most 2 per organ
        names, note = target_lesions.select_targets([target_lesions.LesionMeasurement("x", "x", "baseline", 6, 1)])
        self.assertEqual(names, ["x"])
        self.assertIn("measurable", note)
        # A baseline lesion that splits in two at follow-up: both fragments count, nothing is new.
        baseline = ball(A, 10).astype(np.int32)
        follow = np.zeros(SHAPE, np.int32)
        follow[ball((-20, -5, 0), 3)] = 1
        follow[ball((-20, 5, 0), 3)] = 2
        result = target_lesions.follow(baseline, ["A"], follow, ["p", "q"], IJK_TO_RAS)
        self.assertEqual(len(result), 1)
        self.assertEqual(result[0].status, "matched")
        self.assertEqual(result[0].longest_diameter_mm, 12.0)
        self.assertEqual(len(result[0].fragments), 1)


if __name__ == "__main__":
    unittest.main()
