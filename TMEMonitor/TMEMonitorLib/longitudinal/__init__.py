"""Longitudinal response: the numeric and reporting core (Qt- and MRML-free).

Arrays are indexed [k, j, i] (slices, rows, columns) with 4x4 IJK-to-RAS matrices (mm).
- ``registration``: follow-up to baseline with SimpleITK (rigid, affine, B-spline; Mattes MI),
  ``resample_to_reference``; ``registration_quality``: NMI, correlation, Dice, warnings;
  ``itk_geometry``: RAS <-> LPS images and transforms; ``transform_nodes``: registration
  transforms as Slicer linear / grid transform nodes and back (the one MRML-facing file here).
- ``segmentation_tools``: mask propagation and threshold refinement, volume, RECIST longest
  diameter, RANO bidimensional product, lesion matching across visits; ``target_lesions``:
  RECIST 1.1 target lesions, per-lesion diameters, target sum, fragments and new lesions.
- ``lesion_measurements``: clinical sizing of a mask (volume, RECIST longest diameter).
- ``biomarkers``: per-visit biomarker table, changes; ``change``: the one change() (missing ->
  None); ``repeatability``: RC and real change.
- ``response_maps``: parametric response map; ``habitats``: rule-based and k-means habitats.
- ``response_criteria``: RECIST 1.1, volumetric, RANO 2.0, functional (research) calls.
- ``report`` / ``figures``: report.html + report.json and their PNG figures.
The scene side (the dashboard) is the app's: ``TMEMonitorApp.dashboard``.
"""
