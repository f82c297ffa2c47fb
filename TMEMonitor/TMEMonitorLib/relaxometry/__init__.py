"""Relaxometry shared by the techniques: the SPGR signal equation and its exact inversion
(``spgr``), and variable-flip-angle T1 mapping (``vfa_t1``)."""
