"""Longitudinal response: registration to baseline, repeatability, response maps, habitats, criteria, report.

Qt- and MRML-free (numpy arrays indexed [k, j, i] with 4x4 IJK-to-RAS matrices); the scene
side lives in ``TMEMonitorLib.dashboard``.
"""
