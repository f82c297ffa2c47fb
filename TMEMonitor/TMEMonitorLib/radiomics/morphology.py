"""Morphological features (IBSI 1, section 3.1). Volume and area come from the marching-cubes
mesh of the morphological mask; voxel-based quantities (PCA axes, centre of mass) from voxel
centres; intensity-weighted ones (centre-of-mass shift, integrated intensity, Moran's I,
Geary's C) from the intensity mask."""
import numpy as np
from scipy import fft as sp_fft
from scipy import spatial
from scipy.special import eval_legendre

from .mesh import mask_mesh, mesh_volume_area


def _voxel_positions(mask, spacing):
    idx = np.nonzero(mask)
    return np.stack([i * s for i, s in zip(idx, spacing)], axis=1)       # (n, 3) z, y, x mm


def _ellipsoid_area(a, b, c, terms=20):
    """Surface of an ellipsoid with semi-axes a >= b >= c, Legendre series (IBSI 3.1.23)."""
    if a <= 0:
        return np.nan
    alpha = np.sqrt(max(1.0 - b ** 2 / a ** 2, 0.0))
    beta = np.sqrt(max(1.0 - c ** 2 / a ** 2, 0.0))
    if alpha * beta == 0:
        return 4.0 * np.pi * a * b if alpha == 0 and beta == 0 else _ellipsoid_area_numeric(a, b, c)
    x = (alpha ** 2 + beta ** 2) / (2.0 * alpha * beta)
    total = 0.0
    for nu in range(terms + 1):
        total += (alpha * beta) ** nu / (1.0 - 4.0 * nu ** 2) * eval_legendre(nu, x)
    return 4.0 * np.pi * a * b * total


def _ellipsoid_area_numeric(a, b, c, n=400):
    # fallback quadrature over the parametric surface (degenerate series cases)
    theta = (np.arange(n) + 0.5) * np.pi / n
    phi = (np.arange(2 * n) + 0.5) * np.pi / n
    t, p = np.meshgrid(theta, phi, indexing="ij")
    st, ct, sp, cp = np.sin(t), np.cos(t), np.sin(p), np.cos(p)
    nx, ny, nz = b * c * st ** 2 * cp, a * c * st ** 2 * sp, a * b * st * ct
    return float(np.sum(np.sqrt(nx ** 2 + ny ** 2 + nz ** 2)) * (np.pi / n) ** 2)


def _mvee(points, tolerance=1e-7, max_iter=2000):
    """Minimum volume enclosing ellipsoid (Khachiyan 1996) of ``points`` (n, 3):
    returns the semi-axes lengths (descending)."""
    p = np.asarray(points, dtype=float)
    n, d = p.shape
    q = np.vstack([p.T, np.ones(n)])
    u = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        x = q @ (u[:, None] * q.T)
        m = np.einsum("ij,ji->i", q.T, np.linalg.solve(x, q))
        j = int(np.argmax(m))
        step = (m[j] - d - 1.0) / ((d + 1.0) * (m[j] - 1.0))
        new_u = (1.0 - step) * u
        new_u[j] += step
        if np.linalg.norm(new_u - u) < tolerance:
            u = new_u
            break
        u = new_u
    centre = p.T @ u
    cov = p.T @ (u[:, None] * p) - np.outer(centre, centre)
    a_matrix = np.linalg.inv(cov) / d
    eig = np.linalg.eigvalsh(a_matrix)
    return np.sort(1.0 / np.sqrt(eig))[::-1]


def _ombb(hull_points, hull):
    """Oriented minimum bounding box by the face-flush heuristic: for each hull facet normal,
    the minimum-area rectangle of the points projected on the facet plane (rotating
    calipers over the 2D hull edges). Exact boxes have >= 2 faces flush with hull edges
    (O'Rourke 1985); this search returns an upper bound that is exact for most shapes."""
    best_volume, best_area = np.inf, np.nan
    normals = hull.equations[:, :3]
    # n and -n give the same box: fold to one hemisphere, then drop repeats
    sign = np.where(np.abs(normals[:, 0]) > 1e-9, np.sign(normals[:, 0]),
                    np.where(np.abs(normals[:, 1]) > 1e-9, np.sign(normals[:, 1]), np.sign(normals[:, 2])))
    normals = np.unique(np.round(normals * sign[:, None], 6), axis=0)
    for n in normals:
        n = n / np.linalg.norm(n)
        h = hull_points @ n
        height = h.max() - h.min()
        helper = np.array([1.0, 0, 0]) if abs(n[0]) < 0.9 else np.array([0, 1.0, 0])
        u = np.cross(n, helper)
        u /= np.linalg.norm(u)
        v = np.cross(n, u)
        pts = np.stack([hull_points @ u, hull_points @ v], axis=1)
        try:
            poly = pts[spatial.ConvexHull(pts).vertices]
        except spatial.QhullError:
            continue
        edges = np.roll(poly, -1, axis=0) - poly
        angles = np.unique(np.mod(np.arctan2(edges[:, 1], edges[:, 0]), np.pi / 2))
        c, s_ = np.cos(angles)[:, None], np.sin(angles)[:, None]
        width = np.ptp(poly[:, 0] * c + poly[:, 1] * s_, axis=1)       # all caliper angles at once
        length = np.ptp(-poly[:, 0] * s_ + poly[:, 1] * c, axis=1)
        volumes = width * length * height
        k = int(np.argmin(volumes))
        if volumes[k] < best_volume:
            best_volume = volumes[k]
            best_area = 2 * (width[k] * length[k] + (width[k] + length[k]) * height)
    return best_volume, best_area


def _spatial_autocorrelation(values, int_mask, spacing):
    """Moran's I and Geary's C with inverse-distance weights over all ROI voxel pairs,
    computed exactly with FFT convolutions (no O(N^2) pair loop)."""
    idx = np.nonzero(int_mask)
    sl = tuple(slice(int(i.min()), int(i.max()) + 1) for i in idx)
    m = int_mask[sl].astype(float)
    x = np.where(int_mask[sl], values[sl], 0.0)
    n = m.sum()
    if n < 2:
        return np.nan, np.nan
    mean = x.sum() / n
    dev = np.where(int_mask[sl], x - mean, 0.0)
    shape = m.shape
    grids = np.meshgrid(*[np.arange(-(k - 1), k) * s for k, s in zip(shape, spacing)], indexing="ij")
    dist = np.sqrt(sum(g ** 2 for g in grids))
    w = np.zeros(dist.shape)
    np.divide(1.0, dist, out=w, where=dist > 0)
    # one FFT of the weight kernel, reused: full linear convolution cropped to the ROI box
    fft_shape = [sp_fft.next_fast_len(2 * k - 1, True) for k in shape]
    kernel_f = sp_fft.rfftn(w, fft_shape)
    crop = tuple(slice(k - 1, 2 * k - 1) for k in shape)

    def conv(a):
        return sp_fft.irfftn(sp_fft.rfftn(a, fft_shape) * kernel_f, fft_shape)[crop]

    xs = np.where(int_mask[sl], x, 0.0)
    w_sum_per_voxel = conv(m)                     # sum_j w_ij over ROI voxels j
    conv_x = conv(xs)
    w_total = np.sum(w_sum_per_voxel * m)
    # sum_ij w_ij dev_i dev_j, with dev = x - mean on the ROI: conv(dev) = conv(x) - mean conv(m)
    cross = np.sum(dev * (conv_x - mean * w_sum_per_voxel))
    var_sum = np.sum(dev ** 2)
    if var_sum <= 0 or w_total <= 0:
        return np.nan, np.nan
    moran = n / w_total * cross / var_sum
    # sum_ij w_ij (x_i - x_j)^2 = 2 sum_i x_i^2 W_i - 2 sum_ij w_ij x_i x_j (on deviations
    # to avoid cancellation: the differences are shift-invariant)
    geary_num = 2.0 * np.sum(dev ** 2 * w_sum_per_voxel) - 2.0 * np.sum(dev * (conv_x - mean * w_sum_per_voxel))
    geary = (n - 1.0) / (2.0 * w_total) * geary_num / var_sum
    return float(moran), float(geary)


def morphology_features(values, morph_mask, int_mask, spacing):
    out = {}
    vertices, faces = mask_mesh(morph_mask, spacing)
    volume, area = mesh_volume_area(vertices, faces)
    voxel_volume = float(np.prod(spacing))
    n_vox = int(morph_mask.sum())
    out["morph_volume"] = volume
    out["morph_vol_approx"] = n_vox * voxel_volume
    out["morph_area_mesh"] = area
    out["morph_av"] = area / volume
    out["morph_comp_1"] = volume / (np.sqrt(np.pi) * area ** 1.5)
    out["morph_comp_2"] = 36.0 * np.pi * volume ** 2 / area ** 3
    out["morph_sph_dispr"] = area / (36.0 * np.pi * volume ** 2) ** (1.0 / 3.0)
    out["morph_sphericity"] = (36.0 * np.pi * volume ** 2) ** (1.0 / 3.0) / area
    out["morph_asphericity"] = (area ** 3 / (36.0 * np.pi * volume ** 2)) ** (1.0 / 3.0) - 1.0
    # centre of mass shift: geometric centre of the morphological mask vs intensity-weighted
    # centre of the intensity mask
    pos_m = _voxel_positions(morph_mask, spacing)
    pos_i = _voxel_positions(int_mask, spacing)
    w = values[int_mask]
    if w.sum() != 0:
        com_i = (pos_i * w[:, None]).sum(axis=0) / w.sum()
        out["morph_com"] = float(np.linalg.norm(pos_m.mean(axis=0) - com_i))
    else:
        out["morph_com"] = np.nan
    try:
        hull = spatial.ConvexHull(vertices)
        hull_points = vertices[hull.vertices]
        out["morph_diam"] = float(spatial.distance.pdist(hull_points).max())
        hull_volume, hull_area = hull.volume, hull.area
    except (spatial.QhullError, ValueError):
        hull, hull_points = None, vertices
        out["morph_diam"] = float(spatial.distance.pdist(vertices).max()) if len(vertices) > 1 else np.nan
        hull_volume, hull_area = np.nan, np.nan
    # PCA of voxel centres (sample covariance, N-1: matches the IBSI consensus values)
    if n_vox > 1:
        eig = np.sort(np.linalg.eigvalsh(np.cov(pos_m.T)))[::-1]
        eig = np.clip(eig, 0.0, None)
    else:
        eig = np.zeros(3)
    major, minor, least = eig
    out["morph_pca_maj_axis"] = 4.0 * np.sqrt(major)
    out["morph_pca_min_axis"] = 4.0 * np.sqrt(minor)
    out["morph_pca_least_axis"] = 4.0 * np.sqrt(least)
    out["morph_pca_elongation"] = np.sqrt(minor / major) if major > 0 else np.nan
    out["morph_pca_flatness"] = np.sqrt(least / major) if major > 0 else np.nan
    # axis-aligned bounding box of the mesh
    ext = np.ptp(vertices, axis=0)
    out["morph_vol_dens_aabb"] = volume / np.prod(ext)
    out["morph_area_dens_aabb"] = area / (2.0 * (ext[0] * ext[1] + ext[0] * ext[2] + ext[1] * ext[2]))
    if hull is not None:
        ombb_volume, ombb_area = _ombb(hull_points, hull)
    else:
        ombb_volume, ombb_area = np.nan, np.nan
    out["morph_vol_dens_ombb"] = volume / ombb_volume
    out["morph_area_dens_ombb"] = area / ombb_area
    # approximate enclosing ellipsoid from the PCA semi-axes 2 sqrt(lambda)
    a, b, c = 2.0 * np.sqrt(major), 2.0 * np.sqrt(minor), 2.0 * np.sqrt(least)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["morph_vol_dens_aee"] = 3.0 * volume / (4.0 * np.pi * a * b * c)
        out["morph_area_dens_aee"] = area / _ellipsoid_area(a, b, c)
    try:
        ma, mb, mc = _mvee(hull_points)
        out["morph_vol_dens_mvee"] = 3.0 * volume / (4.0 * np.pi * ma * mb * mc)
        out["morph_area_dens_mvee"] = area / _ellipsoid_area(ma, mb, mc)
    except np.linalg.LinAlgError:
        out["morph_vol_dens_mvee"] = np.nan
        out["morph_area_dens_mvee"] = np.nan
    out["morph_vol_dens_conv_hull"] = volume / hull_volume
    out["morph_area_dens_conv_hull"] = area / hull_area
    out["morph_integ_int"] = volume * float(np.mean(values[int_mask]))
    out["morph_moran_i"], out["morph_geary_c"] = _spatial_autocorrelation(values, int_mask, spacing)
    return {k: float(v) for k, v in out.items()}
