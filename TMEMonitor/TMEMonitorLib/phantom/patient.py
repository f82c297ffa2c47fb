"""The synthetic patient on therapy: visits with label maps and ground-truth parameter maps.

Geometry is analytic: each visit's tissues are evaluated at the voxel centres mapped back
into the body frame through that visit's rigid misalignment, so the truth in every visit's
own space is exact (no resampling). Heterogeneity inside each tissue is a smooth random
field fixed in the body frame (deterministic for a seed).
"""
import datetime
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from .labels import HABITATS, LABELS, TUMOUR_LABELS
from ..longitudinal.lesion_measurements import longest_diameter_mm, volume_ml
from .tissue_values import (CHOLINES, CREATINES, DELTA_R1_O2, METABOLITES_MM, NON_RESPONDER_GEOMETRY,
                            NON_RESPONDER_OXY_REFRACTORY_WIDTH, REOXYGENATED_R2STAR, RESPONDER_CHANGE, RESPONDER_GEOMETRY,
                            RESPONDER_OXY_REFRACTORY_WIDTH, RESPONDER_STIFFNESS_CHANGE, TISSUES, VISCOELASTIC)

PARAMETERS = ("Ktrans", "ve", "vp", "T10_s", "M0", "D", "f", "Dstar", "K", "S0_dwi", "R2star")
VISIT_NAMES = ("baseline", "week 2", "week 6", "week 10", "week 14")
VISIT_DAYS = (-3, 14, 42, 70, 98)
# Density of soft tissue for the true shear-wave speed (the usual MRE assumption), kg/m3.
TISSUE_DENSITY_KG_M3 = 1000.0
# b-values over which the "true ADC" is defined (the demo's DWI protocol).
ADC_B_VALUES = np.array([0, 10, 20, 50, 100, 200, 400, 600, 800, 1000], dtype=float)


@dataclass
class Visit:
    name: str
    date: datetime.date
    day: int
    ijk_to_ras: np.ndarray
    labels: np.ndarray
    truth: dict
    truth_summary: dict
    misalignment: np.ndarray        # 4x4: baseline RAS -> this visit's RAS (where the body moved)

    @property
    def tumour_mask(self):
        return np.isin(self.labels, TUMOUR_LABELS)


@dataclass
class Patient:
    patient_id: str
    treatment_start_date: datetime.date
    responder: bool
    visits: list = field(default_factory=list)


def _rigid(angle_deg, translation_mm):
    """Rotation about the slice (S) axis then translation, as a 4x4 RAS matrix."""
    a = np.deg2rad(angle_deg)
    matrix = np.eye(4)
    matrix[:2, :2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
    matrix[:3, 3] = translation_mm
    return matrix


def _smooth_field(shape, rng, sigma_voxels, amplitude):
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), sigma_voxels, mode="wrap")
    noise /= max(np.abs(noise).max(), 1e-12)
    return (1.0 + amplitude * noise).astype(np.float32)


def _voxel_centres_ras(shape, ijk_to_ras):
    k, j, i = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
    ijk = np.stack([i, j, k, np.ones_like(i)], axis=-1)
    return ijk @ np.asarray(ijk_to_ras).T


def _labels_in_body_frame(ras, body, geometry):
    """Label map from body-frame coordinates (mm): body ellipse, fat rim, artery, tumour habitats."""
    x, y, z = ras[..., 0], ras[..., 1], ras[..., 2]
    labels = np.zeros(x.shape, np.uint8)
    body_r = ((x / body["ax"]) ** 2 + (y / body["ay"]) ** 2)
    labels[body_r <= 1.0] = LABELS["fat"]
    inner = ((x / (body["ax"] - body["fat"])) ** 2 + (y / (body["ay"] - body["fat"])) ** 2)
    labels[inner <= 1.0] = LABELS["normal"]
    artery = (x - body["artery_x"]) ** 2 + (y - body["artery_y"]) ** 2 <= body["artery_r"] ** 2
    labels[artery] = LABELS["artery"]
    rho = _tumour_radius(ras, body, geometry)
    labels[rho <= 1.0] = LABELS["viable_rim"]
    labels[rho <= geometry["hypoxic"]] = LABELS["hypoxic"]
    labels[rho <= geometry["necrotic"]] = LABELS["necrotic"]
    return labels


def _tumour_radius(ras, body, geometry):
    """Normalised ellipsoidal radius of each point about the tumour centre (1 on the tumour boundary)."""
    x, y, z = ras[..., 0], ras[..., 1], ras[..., 2]
    radius = body["tumour_r"] * geometry["scale"]
    return np.sqrt(((x - body["tumour_x"]) / radius) ** 2 + ((y - body["tumour_y"]) / (0.8 * radius)) ** 2
                   + ((z - body["tumour_z"]) / max(body["tumour_rz"] * geometry["scale"], 1e-6)) ** 2)


def _true_adc(s0, d, f, dstar):
    """Mono-exponential ADC a log-linear fit gives on the noise-free IVIM signal over ADC_B_VALUES."""
    b = ADC_B_VALUES
    signal = (f[..., None] * np.exp(-b * dstar[..., None]) + (1 - f[..., None]) * np.exp(-b * d[..., None]))
    log_signal = np.log(np.maximum(signal, 1e-12))
    b_centred = b - b.mean()
    slope = (log_signal * b_centred).sum(-1) / (b_centred ** 2).sum()
    return (-slope).astype(np.float32)


def make_patient(shape=(8, 64, 64), n_visits=3, seed=0, spacing_mm=None, misalignment=True, responder=True,
                 start_date=datetime.date(2026, 3, 2)):
    """A synthetic patient on therapy (see the package docstring); deterministic for a seed."""
    if n_visits < 1 or n_visits > len(VISIT_NAMES):
        raise ValueError(f"n_visits must be between 1 and {len(VISIT_NAMES)}")
    shape = tuple(int(n) for n in shape)
    rng = np.random.default_rng(seed)
    # Field of view ~200 x 200 mm in-plane whatever the matrix; 4-5 mm slices.
    spacing = np.array(spacing_mm if spacing_mm is not None else (200.0 / shape[2], 200.0 / shape[1],
                                                                   max(3.0, 40.0 / shape[0])), dtype=float)
    ijk_to_ras = np.eye(4)
    ijk_to_ras[:3, :3] = np.diag(spacing)
    ijk_to_ras[:3, 3] = -0.5 * (np.array([shape[2], shape[1], shape[0]]) - 1) * spacing
    extent_z = shape[0] * spacing[2]
    body = {"ax": 85.0, "ay": 70.0, "fat": 8.0, "artery_x": -45.0, "artery_y": 20.0, "artery_r": max(5.0, 2.5 * spacing[0]),
            "tumour_x": 25.0, "tumour_y": -5.0, "tumour_z": 0.0, "tumour_r": 30.0,
            "tumour_rz": max(0.35 * extent_z, 1.5 * spacing[2])}
    geometries = RESPONDER_GEOMETRY if responder else NON_RESPONDER_GEOMETRY
    fields = {p: _smooth_field(shape, rng, sigma_voxels=max(shape[1] / 16.0, 1.0), amplitude=0.08)
              for p in ("Ktrans", "ve", "vp", "D", "f")}
    patient = Patient(patient_id=f"TME-SYN-{seed:03d}", treatment_start_date=start_date, responder=responder)
    baseline_frame = _voxel_centres_ras(shape, ijk_to_ras)
    for index in range(n_visits):
        geometry = geometries[min(index, len(geometries) - 1)]
        moved = np.eye(4)
        if misalignment and index > 0:
            moved = _rigid(rng.uniform(-2.5, 2.5), [rng.uniform(-3, 3), rng.uniform(-3, 3), 0.0])
        body_coords = baseline_frame @ np.linalg.inv(moved).T          # visit voxel -> body frame
        labels = _labels_in_body_frame(body_coords, body, geometry)
        heterogeneity = {p: ndimage.map_coordinates(
            fields[p], _ras_to_index(body_coords, ijk_to_ras), order=1, mode="nearest").astype(np.float32)
            for p in fields}
        change = RESPONDER_CHANGE[min(index, len(RESPONDER_CHANGE) - 1)] if responder else {}
        truth = _truth_maps(labels, heterogeneity, change)
        refractory_width = (RESPONDER_OXY_REFRACTORY_WIDTH if responder else NON_RESPONDER_OXY_REFRACTORY_WIDTH)
        _add_oxygenation_truth(truth, labels, _tumour_radius(body_coords, body, geometry), geometry,
                               refractory_width[min(index, len(refractory_width) - 1)])
        _add_viscoelastic_truth(truth, labels, RESPONDER_STIFFNESS_CHANGE[min(index, len(RESPONDER_STIFFNESS_CHANGE) - 1)]
                                if responder else {})
        date = start_date + datetime.timedelta(days=VISIT_DAYS[index])
        visit = Visit(name=VISIT_NAMES[index], date=date, day=VISIT_DAYS[index], ijk_to_ras=ijk_to_ras.copy(),
                      labels=labels, truth=truth, truth_summary={}, misalignment=moved)
        truth["metabolites_mM"] = _metabolites(change)
        visit.truth_summary = summarise(visit)
        patient.visits.append(visit)
    return patient


def _ras_to_index(ras, ijk_to_ras):
    ijk = ras @ np.linalg.inv(ijk_to_ras).T
    return np.stack([ijk[..., 2], ijk[..., 1], ijk[..., 0]])           # (k, j, i) order for map_coordinates


def _truth_maps(labels, heterogeneity, change):
    truth = {p: np.zeros(labels.shape, np.float32) for p in PARAMETERS}
    name_of = {value: name for name, value in LABELS.items()}
    for label, values in TISSUES.items():
        region = labels == label
        factors = change.get(name_of[label], {})
        for parameter, value in values.items():
            scaled = value * factors.get(parameter, 1.0)
            if parameter in heterogeneity and label in TUMOUR_LABELS + (LABELS["normal"],):
                truth[parameter][region] = scaled * heterogeneity[parameter][region]
            else:
                truth[parameter][region] = scaled
    truth["ve"] = np.clip(truth["ve"], 0.0, 0.95)
    truth["f"] = np.clip(truth["f"], 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        truth["kep"] = np.where(truth["ve"] > 0, truth["Ktrans"] / np.maximum(truth["ve"], 1e-6), 0.0).astype(np.float32)
    truth["ADC"] = np.where(labels > 0, _true_adc(truth["S0_dwi"], truth["D"], truth["f"], truth["Dstar"]), 0.0).astype(np.float32)
    return truth


def _add_oxygenation_truth(truth, labels, rho, geometry, refractory_width):
    """Hypoxia truth: the perfused oxygen-refractory shell next to the necrosis ("perfused_oxy_r",
    1/0), R2* lowered where the hypoxic habitat has re-oxygenated, T2* (ms) and Delta R1 with O2 (1/s).

    The refractory shell spans ``refractory_width`` of the hypoxic habitat's radial width from the
    necrotic boundary outwards (tissue_values.RESPONDER_OXY_REFRACTORY_WIDTH); at full width (baseline,
    non-responder) R2* is exactly the per-tissue value of TISSUES."""
    hypoxic = labels == LABELS["hypoxic"]
    boundary = geometry["necrotic"] + refractory_width * (geometry["hypoxic"] - geometry["necrotic"])
    refractory = hypoxic & (rho <= boundary)
    truth["perfused_oxy_r"] = refractory.astype(np.float32)
    reoxygenated = hypoxic & ~refractory
    truth["R2star"][reoxygenated] = REOXYGENATED_R2STAR
    with np.errstate(divide="ignore"):
        truth["T2star_ms"] = np.where(truth["R2star"] > 0, 1000.0 / np.maximum(truth["R2star"], 1e-12),
                                      0.0).astype(np.float32)
    delta_r1 = np.zeros(labels.shape, np.float32)
    for label, value in DELTA_R1_O2.items():
        delta_r1[labels == label] = value
    delta_r1[refractory] = 0.0
    truth["dR1"] = delta_r1


def _add_viscoelastic_truth(truth, labels, change):
    """MR elastography truth: |G*| (Pa), loss angle phi (rad) and shear-wave speed (m/s) per tissue."""
    name_of = {value: name for name, value in LABELS.items()}
    abs_g = np.zeros(labels.shape, np.float32)
    phi = np.zeros(labels.shape, np.float32)
    for label, values in VISCOELASTIC.items():
        region = labels == label
        abs_g[region] = values["abs_G"] * change.get(name_of[label], 1.0)
        phi[region] = values["phi"]
    truth["abs_G"] = abs_g
    truth["phi"] = phi
    # Phase velocity of a viscoelastic shear wave: sqrt(|G*| / rho) / cos(phi / 2) (Manduca et al.,
    # Med Image Anal 2001, doi:10.1016/S1361-8415(01)00039-6).
    truth["wave_speed"] = np.where(labels > 0, np.sqrt(abs_g / TISSUE_DENSITY_KG_M3) / np.cos(phi / 2.0),
                                   0.0).astype(np.float32)


def _metabolites(change):
    factor = {m: change.get("tCho", 1.0) for m in CHOLINES}
    tumour = {m: v * change.get(m, factor.get(m, 1.0)) for m, v in METABOLITES_MM["tumour"].items()}
    return {"tumour": tumour, "normal": dict(METABOLITES_MM["normal"])}


def summarise(visit):
    """Tumour-level truth: volume, longest diameter, means over the tumour and each habitat."""
    mask = visit.tumour_mask
    summary = {"volume_ml": volume_ml(mask, visit.ijk_to_ras),
               "longest_diameter_mm": longest_diameter_mm(mask, visit.ijk_to_ras)}
    for parameter in ("Ktrans", "ve", "vp", "kep", "ADC", "D", "f", "Dstar", "K", "R2star", "T10_s"):
        values = visit.truth[parameter][mask]
        summary[f"{parameter}_mean"] = float(values.mean()) if values.size else float("nan")
    for habitat in HABITATS:
        region = visit.labels == LABELS[habitat]
        summary[f"{habitat}_volume_ml"] = volume_ml(region, visit.ijk_to_ras)
    tumour = visit.truth["metabolites_mM"]["tumour"]
    for metabolite, value in tumour.items():
        summary[f"{metabolite}_mM"] = value
    summary["tCho_mM"] = sum(tumour[m] for m in CHOLINES)
    summary["tCr_mM"] = sum(tumour[m] for m in CREATINES)
    summary["tCho/tCr"] = summary["tCho_mM"] / summary["tCr_mM"]
    # Hypoxia and elastography truth (tumour means; hypoxic fraction: perfused Oxy-R voxels / tumour voxels).
    for parameter in ("T2star_ms", "dR1", "abs_G", "phi", "wave_speed"):
        if parameter in visit.truth:
            values = visit.truth[parameter][mask]
            summary[f"{parameter}_mean"] = float(values.mean()) if values.size else float("nan")
    if "abs_G_mean" in summary:
        summary["abs_G_kPa_mean"] = summary["abs_G_mean"] * 1e-3        # as the MRE maps show it
    if "perfused_oxy_r" in visit.truth:
        values = visit.truth["perfused_oxy_r"][mask]
        summary["hypoxic_fraction"] = float(values.mean()) if values.size else float("nan")
        summary["perfused_oxy_r_volume_ml"] = volume_ml(visit.truth["perfused_oxy_r"] > 0, visit.ijk_to_ras)
    return summary


def describe(patient):
    lines = [f"Synthetic patient {patient.patient_id} ({'responder' if patient.responder else 'non-responder'}), "
             f"treatment start {patient.treatment_start_date.isoformat()}"]
    for visit in patient.visits:
        s = visit.truth_summary
        lines.append(f"  {visit.name:9s} day {visit.day:4d}: tumour {s['volume_ml']:6.1f} mL, LD {s['longest_diameter_mm']:5.1f} mm, "
                     f"Ktrans {s['Ktrans_mean']:.3f}/min, ADC {s['ADC_mean'] * 1e3:.2f}e-3 mm2/s, "
                     f"necrotic {s['necrotic_volume_ml']:.1f} mL")
    return "\n".join(lines)
