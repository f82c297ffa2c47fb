"""Parameter values of the synthetic patient's tissues at 3 T, with their sources.

Typical literature values, chosen to be representative rather than patient-specific:
- DCE (Ktrans, ve, vp): breast/head-and-neck tumour ranges in Tofts et al., JMRI 1999
  (doi:10.1002/(SICI)1522-2586(199909)10:3<223::AID-JMRI2>3.0.CO;2-S) and the QIBA DCE
  profile; necrosis: low Ktrans, large ve.
- T1 at 3 T: Stanisz et al., MRM 2005 (doi:10.1002/mrm.20605); blood 1.93 s (Lu et al.,
  MRM 2004, doi:10.1002/mrm.20193); fat ~0.37 s.
- Diffusion (D, f, D*, K): Le Bihan, Radiology 2019 (doi:10.1148/radiol.2019190026);
  tumour ADC 0.8-1.1e-3, necrosis ~2.2-2.6e-3 mm2/s (Padhani et al., Neoplasia 2009,
  doi:10.1593/neo.81328).
- Metabolites (mM): tumour total choline 2-4 mM and its fall with response (Meisamy et al.,
  Radiology 2004, doi:10.1148/radiol.2331031785); creatine, NAA, lactate from Govindaraju
  et al., NMR Biomed 2000 (doi:10.1002/1099-1492(200005)13:3<129::AID-NBM619>3.0.CO;2-V).
- R2* hypoxic tumour higher than normoxic (BOLD; Padhani et al., Eur Radiol 2007,
  doi:10.1007/s00330-006-0431-y).
"""
from .labels import LABELS

# label -> parameter -> value (visit-independent baseline values)
TISSUES = {
    LABELS["normal"]: dict(Ktrans=0.05, ve=0.15, vp=0.02, T10_s=1.30, M0=1000.0,
                           D=1.20e-3, f=0.05, Dstar=0.020, K=0.6, S0_dwi=1000.0, R2star=30.0),
    LABELS["fat"]: dict(Ktrans=0.01, ve=0.05, vp=0.01, T10_s=0.37, M0=1400.0,
                        D=0.30e-3, f=0.02, Dstar=0.020, K=0.3, S0_dwi=300.0, R2star=40.0),
    LABELS["viable_rim"]: dict(Ktrans=0.25, ve=0.35, vp=0.06, T10_s=1.60, M0=1100.0,
                               D=0.85e-3, f=0.12, Dstar=0.030, K=0.9, S0_dwi=1100.0, R2star=35.0),
    LABELS["hypoxic"]: dict(Ktrans=0.06, ve=0.30, vp=0.02, T10_s=1.70, M0=1100.0,
                            D=1.00e-3, f=0.05, Dstar=0.025, K=0.8, S0_dwi=1100.0, R2star=55.0),
    LABELS["necrotic"]: dict(Ktrans=0.01, ve=0.80, vp=0.005, T10_s=2.00, M0=1200.0,
                             D=2.40e-3, f=0.01, Dstar=0.020, K=0.3, S0_dwi=1300.0, R2star=25.0),
    LABELS["artery"]: dict(Ktrans=0.0, ve=0.0, vp=1.0, T10_s=1.93, M0=1200.0,
                           D=1.80e-3, f=0.30, Dstar=0.050, K=0.0, S0_dwi=700.0, R2star=20.0),
}

# Metabolite concentrations (mM) of the tumour at baseline and of normal tissue.
# Total choline = GPC + PCh, total creatine = Cr + PCr.
METABOLITES_MM = {
    "tumour": {"GPC": 1.2, "PCh": 1.8, "Cr": 3.0, "PCr": 3.0, "NAA": 2.0, "Lac": 4.0, "Cit": 1.0},
    "normal": {"GPC": 0.7, "PCh": 0.8, "Cr": 3.5, "PCr": 3.5, "NAA": 9.0, "Lac": 0.5, "Cit": 0.3},
}
CHOLINES = ("GPC", "PCh")
CREATINES = ("Cr", "PCr")

# Multiplicative change of a habitat's parameters at each visit after baseline, for a
# responder (early response: perfusion falls, cellularity falls so D rises, choline falls).
RESPONDER_CHANGE = [
    {},                                                                    # baseline
    {"viable_rim": {"Ktrans": 0.70, "D": 1.12, "vp": 0.85}, "hypoxic": {"Ktrans": 0.80, "D": 1.08},
     "tCho": 0.75, "Lac": 0.85},
    {"viable_rim": {"Ktrans": 0.45, "D": 1.25, "vp": 0.70}, "hypoxic": {"Ktrans": 0.60, "D": 1.15},
     "tCho": 0.50, "Lac": 0.70},
]

# Tumour geometry per visit: in-plane radius scale and the habitat boundaries as fractions
# of the tumour radius (necrotic core inside the hypoxic zone inside the viable rim).
RESPONDER_GEOMETRY = [
    {"scale": 1.00, "necrotic": 0.30, "hypoxic": 0.60},
    {"scale": 0.92, "necrotic": 0.45, "hypoxic": 0.70},
    {"scale": 0.80, "necrotic": 0.60, "hypoxic": 0.80},
]
NON_RESPONDER_GEOMETRY = [
    {"scale": 1.00, "necrotic": 0.30, "hypoxic": 0.60},
    {"scale": 1.10, "necrotic": 0.32, "hypoxic": 0.62},
    {"scale": 1.25, "necrotic": 0.35, "hypoxic": 0.65},
]

# ---------------------------------------------------------------------------------------------
# Oxygenation (hypoxia truth). The hypoxic habitat is a shell around the necrotic core; the part
# of it next to the necrosis is perfused but oxygen-refractory ("perfused Oxy-R", O'Connor et al.,
# Cancer Res 2016, doi:10.1158/0008-5472.CAN-15-2062). Per visit: the fraction of the hypoxic
# shell's radial width (from the necrotic boundary outwards) that stays refractory. A responder
# re-oxygenates from the outside in (less oxygen consumption and better perfusion on therapy:
# Salem et al., Clin Cancer Res 2019, doi:10.1158/1078-0432.CCR-18-3932), so its refractory shell
# shrinks while the necrosis grows; a non-responder keeps the whole shell refractory.
RESPONDER_OXY_REFRACTORY_WIDTH = (1.0, 0.5, 0.2)
NON_RESPONDER_OXY_REFRACTORY_WIDTH = (1.0, 1.0, 1.0)
# R2* (1/s) of the hypoxic shell once re-oxygenated: that of the viable rim (less deoxyhaemoglobin).
REOXYGENATED_R2STAR = 35.0
# Delta R1 (1/s) with 100 % O2: oxygenated tumour 0.02-0.05 (O'Connor 2016), normal tissue
# 0.01-0.03 (O'Connor et al., MRM 2009, doi:10.1002/mrm.21815); none where refractory or
# non-perfused; arterial blood: order of 0.1 (dissolved O2 in plasma).
DELTA_R1_O2 = {LABELS["normal"]: 0.015, LABELS["fat"]: 0.005, LABELS["viable_rim"]: 0.04,
               LABELS["hypoxic"]: 0.04, LABELS["necrotic"]: 0.0, LABELS["artery"]: 0.10}

# ---------------------------------------------------------------------------------------------
# Viscoelasticity (MR elastography truth): |G*| (Pa) and loss angle phi (rad) per tissue.
# - |G*|: normal liver 2.3 kPa, malignant liver tumours 10.1 kPa (Venkatesh et al., AJR 2008,
#   doi:10.2214/AJR.07.3123); untreated HCC 6.9 +- 3.4 kPa, treated 3.9 +- 1.8 kPa (Gordic et al.,
#   Abdom Radiol 2017, doi:10.1007/s00261-017-1066-y); breast fibroglandular tissue stiffer than
#   fat (a few kPa). Chosen: tumour about 3x the surrounding tissue at baseline.
# - phi: malignant tumours are more liquid-like (larger power-law exponent, i.e. loss angle) than
#   benign tissue (Sinkus et al., MRM 2007, doi:10.1002/mrm.21404); necrosis softest and most viscous.
VISCOELASTIC = {
    LABELS["normal"]: dict(abs_G=2300.0, phi=0.45), LABELS["fat"]: dict(abs_G=1500.0, phi=0.35),
    LABELS["viable_rim"]: dict(abs_G=7000.0, phi=0.60), LABELS["hypoxic"]: dict(abs_G=6000.0, phi=0.60),
    LABELS["necrotic"]: dict(abs_G=1800.0, phi=0.85), LABELS["artery"]: dict(abs_G=2300.0, phi=0.45),
}
# Responder: the viable tumour softens on therapy (cell death, loss of solid stress; softening of
# treated HCC, Gordic 2017; of tumours after a vascular disrupting agent, Li et al., Br J Cancer 2014,
# doi:10.1038/bjc.2014.76), on top of the growing (soft) necrosis. Multiplicative |G*| per visit.
RESPONDER_STIFFNESS_CHANGE = [
    {},
    {"viable_rim": 0.85, "hypoxic": 0.90},
    {"viable_rim": 0.70, "hypoxic": 0.80},
]
