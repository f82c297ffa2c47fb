"""Hyperpolarized [1-13C]pyruvate MRI: kPL maps (inputless precursor-product model), AUC ratio and
model-free metrics, flip-angle-aware kinetics; Qt-free (numpy/scipy only at load)."""
