"""MR elastography numeric library of the ElastographyModule (Qt-free, numpy/scipy only):
phase unwrapping, displacement, first harmonic, compression removal, Helmholtz / MDEV / k-MDEV
inversions and synthetic wave fields."""
