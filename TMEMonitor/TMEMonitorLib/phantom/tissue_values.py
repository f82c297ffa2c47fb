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
