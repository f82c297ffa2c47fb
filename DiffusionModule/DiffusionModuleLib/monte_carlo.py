"""Monte-Carlo bias and spread of the diffusion fits on a digital reference object.

Many voxels share one known truth; Rician noise of SD S0 / SNR is added (magnitude images)
and every method is fitted. Used by the CI test (small n) and printed by the benchmark.
"""
import numpy as np

from .adc import fit_adc
from .ivim import fit_ivim
from .synthesis import add_rician_noise, ivim_signal

DEFAULT_B = (0, 10, 20, 30, 50, 80, 100, 200, 400, 600, 800, 1000)
# A tissue-like truth: D 1.0e-3 mm2/s, f 0.10, D* 0.04 mm2/s (within the ranges of the OSIPI
# TF2.4 body regions, Testing/Data/osipi-ivim).
DEFAULT_TRUTH = {"D": 1.0e-3, "f": 0.10, "Dstar": 0.04}


def bias_table(snrs=(20, 50, 100), n=2000, methods=("segmented", "full", "bayesian"), b_values=DEFAULT_B,
               truth=DEFAULT_TRUTH, seed=0):
    """Rows of {"snr", "method", "<p>_bias", "<p>_sd", "<p>_rel_bias", "<p>_rel_sd"} per SNR and method.

    IVIM methods report D, f and Dstar; method "adc" reports the ADC over b >= 200 s/mm2 against
    the true D (perfusion-insensitive range). Statistics are over voxels with finite estimates.
    """
    rng = np.random.default_rng(seed)
    b = np.asarray(b_values, dtype=float)
    clean = ivim_signal(np.ones(n), np.full(n, truth["D"]), np.full(n, truth["f"]), np.full(n, truth["Dstar"]), b)
    rows = []
    for snr in snrs:
        noisy = add_rician_noise(clean, 1.0 / snr, rng)
        for method in methods:
            if method == "adc":
                estimates = {"D": fit_adc(noisy, b, b_min=200.0)["ADC"]}
            else:
                result = fit_ivim(noisy, b, method=method)
                estimates = {name: result[name] for name in ("D", "f", "Dstar")}
            row = {"snr": snr, "method": method}
            for name, values in estimates.items():
                error = values[np.isfinite(values)] - truth[name]
                row[f"{name}_bias"], row[f"{name}_sd"] = float(np.mean(error)), float(np.std(error))
                row[f"{name}_rel_bias"] = row[f"{name}_bias"] / truth[name]
                row[f"{name}_rel_sd"] = row[f"{name}_sd"] / truth[name]
            rows.append(row)
    return rows


def format_table(rows):
    """The rows as a text table: relative bias/SD of D and D*, absolute bias/SD of f."""
    lines = [" SNR | method    | D bias  | D SD   | f bias  | f SD   | D* bias | D* SD"]
    for r in rows:
        def cell(name, kind, absolute=False):
            key = f"{name}_{kind}" if absolute else f"{name}_rel_{kind}"
            if key not in r:
                return "    -  "
            sign = "+" if kind == "bias" else " "
            return f"{r[key]:{sign}.3f}" if absolute else f"{100 * r[key]:{sign}5.1f} %"
        lines.append(f" {r['snr']:3d} | {r['method']:9s} | {cell('D', 'bias')} | {cell('D', 'sd')} | "
                     f"{cell('f', 'bias', True)}  | {cell('f', 'sd', True)} | {cell('Dstar', 'bias')} | "
                     f"{cell('Dstar', 'sd')}")
    return "\n".join(lines)
