"""Numerical wave fields in heterogeneous media: anti-plane shear waves through inclusions.

Cylindrical inclusions (axis along the slices) with in-plane propagation make the through-plane
displacement u_z(x, y) an exact solution of 3D linear viscoelasticity that obeys the scalar
variable-coefficient equation div(G* grad u) + rho omega^2 u = -f (anti-plane shear; e.g.
Achenbach, Wave Propagation in Elastic Solids, 1973, ch. 2.8), with no compressional part.
It is discretised with a 5-point finite-volume stencil (harmonic means of G* on cell faces,
which keeps the traction continuous across an interface) and solved directly with
scipy.sparse (SuperLU). A sponge layer of rising loss modulus absorbs waves at the edges,
and line sources along two sides drive waves in crossing directions.
"""
import numpy as np
from scipy import sparse
from scipy.sparse.linalg import spsolve


def inclusion_phantom(shape_2d, background_g_pa, inclusions):
    """Complex modulus map (rows, cols): ``inclusions`` = [(row, col, radius_vox, G*_pa), ...]."""
    g = np.full(shape_2d, complex(background_g_pa), dtype=complex)
    rows, cols = np.indices(shape_2d)
    for row, col, radius, value in inclusions:
        g[(rows - row) ** 2 + (cols - col) ** 2 <= radius ** 2] = value
    return g


def _harmonic(a, b):
    return 2 * a * b / (a + b)


def simulate_heterogeneous(g_map_pa, voxel_size_m, frequency_hz, density_kg_m3=1000.0, sponge_vox=24,
                           sponge_loss=2.0, sources=("top", "left"), source_phases_rad=(0.0, 1.3)):
    """Complex anti-plane displacement (rows, cols) for modulus map ``g_map_pa`` (Pa, complex).

    The grid is padded by ``sponge_vox`` on every side, where the loss ramps quadratically up to
    ``sponge_loss`` x |G*|; line sources sit just inside the sponge. Returns the field on the
    original grid, normalised to RMS 1.
    """
    h = float(voxel_size_m)
    padded = np.pad(g_map_pa, sponge_vox, mode="edge").astype(complex)
    n_rows, n_cols = padded.shape
    rows, cols = np.indices(padded.shape)
    depth = np.maximum.reduce([sponge_vox - rows, rows - (n_rows - 1 - sponge_vox),
                               sponge_vox - cols, cols - (n_cols - 1 - sponge_vox), np.zeros_like(rows)])
    padded = padded + 1j * sponge_loss * np.abs(padded) * (depth / max(sponge_vox, 1)) ** 2
    omega2 = (2 * np.pi * frequency_hz) ** 2
    index = np.arange(n_rows * n_cols).reshape(n_rows, n_cols)
    diagonal = np.full(padded.shape, density_kg_m3 * omega2 * h ** 2, dtype=complex)
    row_index, col_index, values = [], [], []
    # Faces between neighbours: flux G_face (u_nb - u) / h^2 (times h^2 overall).
    for axis in (0, 1):
        a = padded[:-1, :] if axis == 0 else padded[:, :-1]
        b = padded[1:, :] if axis == 0 else padded[:, 1:]
        face = _harmonic(a, b)
        i = index[:-1, :] if axis == 0 else index[:, :-1]
        j = index[1:, :] if axis == 0 else index[:, 1:]
        row_index += [i.ravel(), j.ravel()]
        col_index += [j.ravel(), i.ravel()]
        values += [face.ravel(), face.ravel()]
        if axis == 0:
            diagonal[:-1, :] -= face
            diagonal[1:, :] -= face
        else:
            diagonal[:, :-1] -= face
            diagonal[:, 1:] -= face
    row_index.append(index.ravel())
    col_index.append(index.ravel())
    values.append(diagonal.ravel())
    matrix = sparse.csr_matrix((np.concatenate(values), (np.concatenate(row_index), np.concatenate(col_index))),
                               shape=(index.size, index.size))
    force = np.zeros(padded.shape, complex)
    line = sponge_vox + 2
    for side, phase in zip(sources, source_phases_rad):
        value = np.exp(1j * phase)
        if side == "top":
            force[line, sponge_vox:n_cols - sponge_vox] += value
        elif side == "bottom":
            force[n_rows - 1 - line, sponge_vox:n_cols - sponge_vox] += value
        elif side == "left":
            force[sponge_vox:n_rows - sponge_vox, line] += value
        elif side == "right":
            force[sponge_vox:n_rows - sponge_vox, n_cols - 1 - line] += value
        else:
            raise ValueError(f"source side '{side}' is not top, bottom, left or right")
    u = spsolve(matrix.tocsc(), -force.ravel() * h ** 2).reshape(padded.shape)
    u = u[sponge_vox:n_rows - sponge_vox, sponge_vox:n_cols - sponge_vox]
    return u / np.sqrt(np.mean(np.abs(u) ** 2))
