"""DCE-MRI numeric library of the DCE module (Qt-free, no slicer import).

- ``agents``: contrast-agent relaxivities and the default haematocrit.
- ``aif``: population AIFs (Parker, Georgiou, McGrath), measured and detected AIFs.
- ``t1``: variable flip angle T1 mapping.
- ``signal``: SPGR signal equation, signal <-> concentration, baseline frames.
- ``semiquant``: model-free curve metrics (iAUC, TTP, slopes, SER, curve type).
"""
