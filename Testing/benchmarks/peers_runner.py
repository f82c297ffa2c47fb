"""Run one peer library on one benchmark data set (called by benchmark_peers.py; not a test).

Runs inside the separate peers environment (Utilities/setup_benchmark_peers.sh builds it:
Python >= 3.12, osipy, dipy). It never imports the project.

    <peers-python> peers_runner.py DATA.npz OUT.npz PEER TASK

DATA.npz holds what the task needs ("ct" (N, T) mM and "t_s", "cp" for DCE; "signal" (N, n_b)
and "b" for IVIM). OUT.npz receives each parameter in the project's units (Ktrans, Fp, PS in
1/min = mL/min/mL; D, D* in mm2/s; fractions 0..1) "seconds", the wall time of the fit
call alone (imports and data loading excluded), and "cpu_seconds", the CPU time of all the
process's threads over the same span (plus the small conversion of the results).
"""
import sys
import time

import numpy as np


def osipy_dce(data, model):
    from osipy.dce.fitting import fit_model
    ct, t, cp = data["ct"], data["t_s"], data["cp"]
    start = time.perf_counter()
    volume = ct.reshape(ct.shape[0], 1, 1, ct.shape[1])          # osipy's parameter maps are 3D
    result = fit_model(model, volume, cp, t)
    seconds = time.perf_counter() - start
    maps = {name: np.asarray(m.values, float).reshape(ct.shape[0]) for name, m in result.parameter_maps.items()}
    for name in ("Fp", "PS"):            # osipy's two-compartment flows are in mL/min/100mL
        if name in maps:
            maps[name] = maps[name] / 100.0
    return maps, seconds


def osipy_ivim(data, method):
    from osipy.ivim.fitting.estimators import FittingMethod, IVIMFitParams, fit_ivim
    signal, b = data["signal"], data["b"]
    params = IVIMFitParams(method=FittingMethod(method))
    start = time.perf_counter()
    result = fit_ivim(signal, b, params=params)
    seconds = time.perf_counter() - start
    n = signal.shape[0]
    return {"D": np.asarray(result.d_map.values, float).reshape(n),
            "f": np.asarray(result.f_map.values, float).reshape(n),
            "Dstar": np.asarray(result.d_star_map.values, float).reshape(n)}, seconds


def dipy_ivim(data, method):
    from dipy.core.gradients import gradient_table
    from dipy.reconst.ivim import IvimModel
    signal, b = data["signal"], data["b"]
    vectors = np.tile([1.0, 0.0, 0.0], (b.size, 1))
    vectors[b == 0] = 0.0
    gtab = gradient_table(b, bvecs=vectors, b0_threshold=0)
    model = IvimModel(gtab, fit_method=method)
    start = time.perf_counter()
    fit = model.fit(signal)
    seconds = time.perf_counter() - start
    return {"D": np.asarray(fit.D, float), "f": np.asarray(fit.perfusion_fraction, float),
            "Dstar": np.asarray(fit.D_star, float)}, seconds


def main():
    data_path, out_path, peer, task = sys.argv[1:5]
    data = dict(np.load(data_path))
    kind, _, option = task.partition(":")
    runner = {("osipy", "dce"): osipy_dce, ("osipy", "ivim"): osipy_ivim, ("dipy", "ivim"): dipy_ivim}[(peer, kind)]
    cpu_start = time.process_time()
    maps, seconds = runner(data, option)
    cpu_seconds = time.process_time() - cpu_start        # all threads of this process
    np.savez(out_path, seconds=seconds, cpu_seconds=cpu_seconds, **maps)


if __name__ == "__main__":
    main()
