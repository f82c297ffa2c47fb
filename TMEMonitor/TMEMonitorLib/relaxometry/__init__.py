"""Relaxometry shared by the techniques: the SPGR signal equation and its exact inversion
(``spgr``), variable-flip-angle T1 mapping (``vfa_t1``), inversion-recovery T1 mapping with
polarity restoration (``inversion_recovery``) and Look-Locker / MOLLI T1 (``look_locker``)."""
