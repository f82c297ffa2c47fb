"""IBSI 1 digital phantom: every consensus reference value, scored per family.

Bar (issue 17): 100 % of intensity statistics, intensity histogram, GLCM, GLRLM and GLSZM
values and >= 95 % of every other family. The scoring rule is in
Testing/Data/ibsi1-digital-phantom/README.md."""
import csv
import math
import os
import unittest

from TMEMonitorLib.radiomics import compute_features, tags

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DATA = os.path.join(ROOT, "Testing", "Data", "ibsi1-digital-phantom")
FULL_BAR = ("statistics", "intensity_histogram", "glcm", "glrlm", "glszm")
OTHER_BAR = ("morphology", "local_intensity", "ivh", "gldzm", "ngtdm", "ngldm")


def reference_values():
    rows = []
    with open(os.path.join(DATA, "reference_values.csv"), newline="") as handle:
        for value, tolerance, tag in csv.reader(handle, delimiter=";"):
            if value.startswith("reference") or value == "":
                continue          # header, or no consensus
            rows.append((tag, float(value), float(tolerance)))
    return rows


def passes(value, reference, tolerance):
    if value is None or not math.isfinite(value):
        return False
    half_digit = 0.5 * 10 ** (math.floor(math.log10(abs(reference))) - 2) if reference != 0 else 0.0
    return abs(value - reference) <= max(tolerance, half_digit) * (1 + 1e-12) + 1e-12


def score(features):
    counts, failures = {}, []
    for tag, reference, tolerance in reference_values():
        family = tags.family_of(tag)
        ok = passes(features.get(tag), reference, tolerance)
        done, total = counts.get(family, (0, 0))
        counts[family] = (done + ok, total + 1)
        if not ok:
            failures.append((tag, reference, tolerance, features.get(tag)))
    return counts, failures


class DigitalPhantomTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.features = compute_features(os.path.join(DATA, "phantom.nii.gz"),
                                        os.path.join(DATA, "mask.nii.gz"), "ibsi1_digital_phantom")
        cls.counts, cls.failures = score(cls.features)

    def test_every_reference_tag_is_computed(self):
        missing = [t for t, _, _ in reference_values() if t not in self.features]
        self.assertEqual(missing, [])

    def test_full_bar_families(self):
        for family in FULL_BAR:
            done, total = self.counts[family]
            self.assertEqual(done, total, f"{family}: {done}/{total}; failures: "
                             f"{[f for f in self.failures if tags.family_of(f[0]) == family]}")

    def test_other_families_at_least_95_percent(self):
        for family in OTHER_BAR:
            done, total = self.counts[family]
            self.assertGreaterEqual(done / total, 0.95, f"{family}: {done}/{total}; failures: "
                                    f"{[f for f in self.failures if tags.family_of(f[0]) == family]}")

    def test_all_families_scored(self):
        self.assertEqual(set(self.counts), set(FULL_BAR) | set(OTHER_BAR))
        self.assertEqual(sum(t for _, t in self.counts.values()), 482)

    def test_scorer_rejects_known_deviations(self):
        # pyradiomics-style kurtosis (+3) and a 1 % volume error must fail the scorer
        self.assertFalse(passes(self.features["stat_kurt"] + 3.0, -0.355, 0.0))
        self.assertFalse(passes(556.0 * 1.01, 556.0, 4.0))
        self.assertFalse(passes(float("nan"), 1.0, 0.0))
        self.assertTrue(passes(2.1486, 2.15, 0.0))
        self.assertFalse(passes(2.1449, 2.15, 0.0))

    def test_ivh_table_of_the_manual(self):
        # IBSI 1 manual, IVH example table for the phantom: nu at i = 1..6
        self.assertAlmostEqual(self.features["ivh_v10"], 0.324, places=3)
        self.assertAlmostEqual(self.features["ivh_v90"], 0.0946, places=4)
        self.assertEqual(self.features["ivh_i10"], 5.0)
        self.assertEqual(self.features["ivh_i90"], 2.0)

    def test_no_flags_on_the_phantom(self):
        self.assertEqual(self.features.flags, {})


if __name__ == "__main__":
    unittest.main()
