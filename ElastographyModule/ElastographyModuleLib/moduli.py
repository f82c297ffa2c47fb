"""Relations between the complex shear modulus G* = G' + i G'' and wave quantities.

Time dependence exp(+i omega t): a damped shear wave exp(-i k x) has k = omega sqrt(rho / G*),
and its phase velocity is c = omega / Re(k) = sqrt(2 |G*|^2 / (rho (|G*| + G'))) (e.g. Manduca
et al., Med Image Anal 2001, doi:10.1016/S1361-8415(01)00039-6). The loss angle
phi = atan(G'' / G') lies in [0, pi/2] for a passive material.
"""
import numpy as np


def phase_velocity(abs_g_pa, phi_rad, density_kg_m3):
    """Shear-wave (phase) speed, m/s, from |G*| (Pa) and the loss angle (rad)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(abs_g_pa / density_kg_m3) / np.cos(np.asarray(phi_rad) / 2.0)


def complex_modulus(abs_g_pa, phi_rad):
    """(G', G'') in Pa."""
    return abs_g_pa * np.cos(phi_rad), abs_g_pa * np.sin(phi_rad)


def wavenumber(g_complex_pa, frequency_hz, density_kg_m3):
    """Complex shear wavenumber (rad/m; Im < 0 for damping with exp(+i omega t))."""
    omega = 2 * np.pi * np.asarray(frequency_hz, dtype=float)
    return omega * np.sqrt(density_kg_m3 / np.asarray(g_complex_pa, dtype=complex))
