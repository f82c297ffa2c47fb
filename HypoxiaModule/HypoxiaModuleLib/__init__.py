"""HypoxiaModule library (Qt-free): R2*/R2/R2' relaxometry, gas-challenge (BOLD / oxygen-enhanced)
change maps, the perfused-but-hypoxic (Perfused-Oxy-R) map, synthetic acquisitions, the Logic, the
settings and the ``tme-monitor hypoxia`` command."""
