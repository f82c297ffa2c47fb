#!/usr/bin/env bash
# Prepare the machine on which Testing/benchmarks/benchmark_kpl_ucsf_reference.py runs the UCSF
# hyperpolarized-mri-toolbox (https://github.com/LarsonLab/hyperpolarized-mri-toolbox, BSD-3-Clause)
# in GNU Octave. Installs Octave and its optim package (lsqnonlin) from apt; fetches nothing else:
# the toolbox checkout is expected in TOOLBOX_DIR (never copied into this project).
#
#   sudo Utilities/setup_ucsf_reference.sh TOOLBOX_DIR
set -euo pipefail
toolbox="${1:-}"
if [ -z "$toolbox" ]; then
  echo "usage: $0 TOOLBOX_DIR   (a checkout of LarsonLab/hyperpolarized-mri-toolbox)" >&2
  exit 2
fi
for needed in kinetic_modeling/fit_pyr_kinetics.m kinetic_modeling/flips_scaling_factors.m \
              kinetic_modeling/compute_AUCratio.m; do
  if [ ! -f "$toolbox/$needed" ]; then
    echo "setup_ucsf_reference: $toolbox/$needed not found (TOOLBOX_DIR must be the toolbox checkout)" >&2
    exit 1
  fi
done
if ! command -v octave-cli >/dev/null 2>&1 || ! octave-cli --eval "pkg load optim" >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends octave octave-optim
fi
octave-cli --no-gui --quiet --eval "pkg load optim; printf('Octave %s, optim lsqnonlin: %s\n', version(), which('lsqnonlin'))" 2>/dev/null
echo "run: PYTHONPATH=HyperpolarizedModule:TMEMonitor python Testing/benchmarks/benchmark_kpl_ucsf_reference.py --toolbox $toolbox"
