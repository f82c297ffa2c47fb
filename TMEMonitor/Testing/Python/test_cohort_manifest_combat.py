"""Cohort: manifest validation (every problem listed at once) and ComBat harmonisation numbers
(site effect removed, covariate effect kept; estimates against a direct, loop-by-loop
implementation of Johnson et al. 2007's equations)."""
import os
import tempfile
import unittest

import numpy as np

from TMEMonitorApp.cohort import combat, manifest


def _write(path, text):
    with open(path, "w") as stream:
        stream.write(text)
    return path


class ManifestValidationTest(unittest.TestCase):
    def test_every_problem_listed(self):
        folder = tempfile.mkdtemp()
        for name in ("a.nrrd", "b.nrrd", "c.nrrd", "t.nrrd"):
            _write(os.path.join(folder, name), "x")
        path = _write(os.path.join(folder, "manifest.csv"), "\n".join([
            "patient,visit,date,role,path,site,timepoint",
            "P1,baseline,2026-01-10,DCE,a.nrrd,S1,baseline",
            "P1,baseline,2026-01-10,tumour segmentation,t.nrrd,S1,baseline",
            "P1,baseline,2026-01-10,anatomy,b.nrrd,S1,baseline",
            "P1,week 2,2026-01-24,DWI,missing.nrrd,S1,",                    # missing file
            "P1,week 2,2026-01-24,anatomy,b.nrrd,S1,",
            "P2,baseline,2026-02-01,DCE,a.nrrd,S2,baseline",
            "P2,screen,2026-01-20,DCE,a.nrrd,S2,baseline",                  # two baselines
            "P3,baseline,2026-03-01,DCE,a.nrrd,S1,baseline",
            "P3,baseline,2026-03-01,tumour,t.nrrd,S1,baseline",
            "P3,baseline,2026-03-01,anatomy,b.nrrd,S1,baseline",
            "P3,pre,2026-02-01,DCE,a.nrrd,S1,",                             # before baseline
            "P3,pre,2026-02-01,anatomy,b.nrrd,S1,",
            "P4,baseline,2026-13-45,DWI,a.nrrd,S1,baseline",                # unparsable date
            "P4,baseline,2026-13-45,tumour,t.nrrd,S1,baseline",
            "P5,baseline,2026-03-01,PET,a.nrrd,S1,baseline",                # unknown role
            "P6,baseline,2026-03-01,dce,a.nrrd,S1,baseline",                # valid single-visit patient
            "P6,baseline,2026-03-01,tumour,t.nrrd,S1,baseline",
        ]))
        result = manifest.load(path)
        text = "\n".join(result.problem_lines())
        self.assertIn("missing.nrrd' does not exist", text)
        self.assertIn("two baselines", text)
        self.assertIn("dated before the baseline", text)
        self.assertIn("date '2026-13-45' does not parse", text)
        self.assertIn("unknown role 'PET'", text)
        self.assertEqual(set(result.invalid), {"P1", "P2", "P3", "P4", "P5"})
        self.assertEqual(list(result.patients), ["P6"])
        spec = result.patients["P6"]
        self.assertEqual([s.role for s in spec.visits[0].series], ["dce", "tumour"])

    def test_cli_refuses_to_start_and_lists_problems(self):
        from TMEMonitorApp.cli.main import run_captured
        folder = tempfile.mkdtemp()
        path = _write(os.path.join(folder, "m.csv"), "patient,visit,date,role,path\n"
                                                     "P1,baseline,2026-01-01,DCE,nope.nrrd\nP1,w2,20260101x,MRI,nope2\n")
        code, _, err = run_captured(["cohort", "run", path, "--out", os.path.join(folder, "out"), "--serial"])
        self.assertEqual(code, 2)
        self.assertIn("nope.nrrd' does not exist", err)
        self.assertIn("unknown role 'MRI'", err)
        self.assertIn("--skip-invalid", err)
        self.assertFalse(os.path.exists(os.path.join(folder, "out")))          # nothing written

    def test_bids_discovery(self):
        root = tempfile.mkdtemp()
        _write(os.path.join(root, "participants.tsv"), "participant_id\tsite\tage\nsub-01\tS1\t55\n")
        os.makedirs(os.path.join(root, "sub-01", "ses-baseline", "anat"))
        os.makedirs(os.path.join(root, "sub-01", "ses-baseline", "perf"))
        _write(os.path.join(root, "sub-01", "sub-01_sessions.tsv"), "session_id\tacq_time\nses-baseline\t2026-01-05\n")
        for name in ("anat/sub-01_ses-baseline_T2w.nii.gz", "anat/sub-01_ses-baseline_dseg.nii.gz",
                     "perf/sub-01_ses-baseline_dce.nii.gz"):
            _write(os.path.join(root, "sub-01", "ses-baseline", name), "x")
        result = manifest.validate(manifest.discover_bids(root))
        self.assertEqual(result.problems, [])
        spec = result.patients["01"]
        self.assertEqual(spec.site, "S1")
        self.assertEqual(spec.covariates, {"age": "55"})
        self.assertEqual(sorted(s.role for s in spec.visits[0].series), ["anatomy", "dce", "tumour"])


def _reference_combat(y, sites, x):
    """Johnson et al. 2007 equations, one number at a time (no vectorisation), pooled grand mean."""
    n_features, n = len(y), len(y[0])
    levels = sorted(set(sites))
    p = len(x[0]) if x else 0
    # design [site indicators, covariates]; normal equations solved by Gauss-Jordan elimination
    design = [[1.0 if sites[j] == level else 0.0 for level in levels] + [x[j][k] for k in range(p)] for j in range(n)]
    q = len(design[0])
    b_hat = []
    for g in range(n_features):
        a = [[sum(design[j][r] * design[j][c] for j in range(n)) for c in range(q)] +
             [sum(design[j][r] * y[g][j] for j in range(n))] for r in range(q)]
        for col in range(q):
            pivot = max(range(col, q), key=lambda r: abs(a[r][col]))
            a[col], a[pivot] = a[pivot], a[col]
            for r in range(q):
                if r != col:
                    factor = a[r][col] / a[col][col]
                    a[r] = [a[r][c] - factor * a[col][c] for c in range(q + 1)]
        b_hat.append([a[r][q] / a[r][r] for r in range(q)])
    counts = [sites.count(level) for level in levels]
    alpha = [sum(counts[i] / n * b_hat[g][i] for i in range(len(levels))) for g in range(n_features)]
    fitted = [[sum(design[j][c] * b_hat[g][c] for c in range(q)) for j in range(n)] for g in range(n_features)]
    sigma2 = [sum((y[g][j] - fitted[g][j]) ** 2 for j in range(n)) / n for g in range(n_features)]
    stand = [[alpha[g] + sum(x[j][k] * b_hat[g][len(levels) + k] for k in range(p)) for j in range(n)]
             for g in range(n_features)]
    z = [[(y[g][j] - stand[g][j]) / sigma2[g] ** 0.5 for j in range(n)] for g in range(n_features)]
    gamma_star, delta_star = [], []
    for i, level in enumerate(levels):
        members = [j for j in range(n) if sites[j] == level]
        ni = len(members)
        g_hat = [sum(z[g][j] for j in members) / ni for g in range(n_features)]
        d_hat = [sum((z[g][j] - g_hat[g]) ** 2 for j in members) / (ni - 1) for g in range(n_features)]
        g_bar = sum(g_hat) / n_features
        t2 = sum((v - g_bar) ** 2 for v in g_hat) / (n_features - 1)
        m = sum(d_hat) / n_features
        s2 = sum((v - m) ** 2 for v in d_hat) / (n_features - 1)
        a_prior, b_prior = (2 * s2 + m * m) / s2, (m * s2 + m ** 3) / s2
        g_old, d_old = list(g_hat), list(d_hat)
        while True:
            g_new = [(t2 * ni * g_hat[g] + d_old[g] * g_bar) / (t2 * ni + d_old[g]) for g in range(n_features)]
            d_new = [(0.5 * sum((z[g][j] - g_new[g]) ** 2 for j in members) + b_prior) / (ni / 2 + a_prior - 1)
                     for g in range(n_features)]
            change = max(max(abs(g_new[g] - g_old[g]) / abs(g_old[g]) for g in range(n_features)),
                         max(abs(d_new[g] - d_old[g]) / d_old[g] for g in range(n_features)))
            g_old, d_old = g_new, d_new
            if change < 1e-4:
                break
        gamma_star.append(g_new)
        delta_star.append(d_new)
    adjusted = [[sigma2[g] ** 0.5 * (z[g][j] - gamma_star[levels.index(sites[j])][g])
                 / delta_star[levels.index(sites[j])][g] ** 0.5 + stand[g][j] for j in range(n)]
                for g in range(n_features)]
    return gamma_star, delta_star, adjusted


class ComBatTest(unittest.TestCase):
    def test_worked_example_matches_the_published_equations(self):
        rng = np.random.default_rng(7)
        sites = ["A"] * 5 + ["B"] * 4 + ["C"] * 5
        age = rng.uniform(40, 80, len(sites))
        y = rng.normal(size=(4, len(sites))) + np.array([0.0, 1.0, 2.0, 3.0])[:, None] + 0.02 * age
        y[:, 5:9] = 1.3 * y[:, 5:9] + 0.8
        estimates, adjusted = combat.fit(y, sites, {"age": age}, features=["a", "b", "c", "d"])
        gamma, delta, reference = _reference_combat(y.tolist(), sites, [[a] for a in age])
        np.testing.assert_allclose(estimates["gamma_star"], gamma, rtol=0, atol=1e-6)
        np.testing.assert_allclose(estimates["delta_star"], delta, rtol=0, atol=1e-6)
        np.testing.assert_allclose(adjusted, reference, rtol=0, atol=1e-6)
        # JSON round trip, then applied to new data from a known site
        path = os.path.join(tempfile.mkdtemp(), "estimates.json")
        loaded = combat.load(combat.save(estimates, path))
        np.testing.assert_allclose(combat.apply(loaded, y[:, :3], sites[:3], {"age": age[:3]}), adjusted[:, :3],
                                   atol=1e-12)
        with self.assertRaises(ValueError):
            combat.apply(loaded, y[:, :1], ["Z"], {"age": age[:1]})

    def test_site_effect_removed_covariate_effect_kept(self):
        rng = np.random.default_rng(3)
        n = 120
        sites = np.array(["A", "B"] * (n // 2))
        age = rng.uniform(40, 80, n)
        adc = 1.1e-3 - 4e-6 * (age - 60) + rng.normal(0, 0.05e-3, n)            # covariate effect
        ktrans = 0.20 + rng.normal(0, 0.02, n)
        adc_b = np.where(sites == "B", 1.2 * adc + 0.1e-3, adc)                   # site effect, multiplicative + additive
        ktrans_b = np.where(sites == "B", 0.8 * ktrans + 0.02, ktrans)
        data = np.vstack([adc_b, ktrans_b])
        before = np.mean(data[0, sites == "B"]) - np.mean(data[0, sites == "A"])
        self.assertGreater(before, 0.25e-3)
        def spread_ratio(values):                 # residual SD site B / site A after the common age trend
            residual = values - np.polyval(np.polyfit(age, values, 1), age)
            return np.std(residual[sites == "B"]) / np.std(residual[sites == "A"])
        self.assertGreater(spread_ratio(data[0]), 1.1)
        _, adjusted = combat.fit(data, sites, {"age": age}, features=["ADC", "Ktrans"])
        for g in range(2):
            a, b = adjusted[g, sites == "A"], adjusted[g, sites == "B"]
            scale = np.std(adjusted[g])
            self.assertLess(abs(np.mean(b) - np.mean(a)) / scale, 0.1)            # location removed
            self.assertLess(abs(spread_ratio(adjusted[g]) - 1.0), 0.1)            # scale removed
        slope = np.polyfit(age, adjusted[0], 1)[0]
        self.assertAlmostEqual(slope / -4e-6, 1.0, delta=0.25)                    # age effect survives
        # with a reference site, its values are untouched and the others map onto it
        _, adjusted_ref = combat.fit(data, sites, {"age": age}, reference_site="A", features=["ADC", "Ktrans"])
        np.testing.assert_array_equal(adjusted_ref[:, sites == "A"], data[:, sites == "A"])
        self.assertLess(abs(np.mean(adjusted_ref[0, sites == "B"]) - np.mean(data[0, sites == "A"])), 0.02e-3)


if __name__ == "__main__":
    unittest.main()
