"""Diffusion numeric library of the DiffusionModule (Qt-free): ADC, IVIM and kurtosis fits."""
