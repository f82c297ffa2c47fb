"""DCE analysis settings, shared by the widget's parameter node, the command line and scripts."""
from dataclasses import asdict, dataclass

MODELS = ("tofts", "extended_tofts", "patlak", "2cxm", "2cum")
# Nested models compared per voxel when ``select_model`` is on (AICc).
SELECTABLE_MODELS = ("patlak", "tofts", "extended_tofts")
AIF_SOURCES = ("population", "measured", "automatic", "table")
POPULATION_AIFS = ("parker", "georgiou", "mcgrath_preclinical")
T1_METHODS = ("nonlinear", "linear", "two_point")
INPUT_KINDS = ("signal", "concentration")


def parse_t10_per_tissue(text):
    """``"tumour=1.6, muscle=1.4"`` (or label values ``"1=1.6,2=1.4"``) -> {name or int label: T10 s}."""
    from TMEMonitorLib.errors import InputError
    mapping = {}
    for item in (text or "").replace(";", ",").split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        name = name.strip()
        try:
            t10 = float(value)
        except ValueError:
            t10 = None
        if not sep or not name or t10 is None:
            raise InputError(f"T10 per tissue: '{item.strip()}' is not NAME=T10 (seconds), e.g. tumour=1.6")
        mapping[int(name) if name.isdigit() else name] = t10
    return mapping


@dataclass
class DCESettings:
    model: str = "extended_tofts"
    input_kind: str = "signal"               # signal (SPGR) | concentration (mM, already converted)
    aif_source: str = "population"          # population | measured (ROI) | automatic | table (CSV)
    population_aif: str = "parker"
    aif_delay_s: float = None                # population AIF onset after the first frame; None: from the data
    hematocrit: float = 0.42
    blood_t1_s: float = None                 # T1 of arterial blood converting a measured/automatic AIF;
                                             # None: the literature value at the field (Lu et al. 2004)
    agent: str = "gadobutrol"
    relaxivity_per_mM_s: float = None        # None: preset for agent and field strength
    field_strength_T: float = None           # None: from the acquisition metadata
    tr_s: float = None                       # None: from the acquisition metadata
    flip_angle_deg: float = None             # None: from the acquisition metadata
    t1_method: str = "nonlinear"
    fixed_t10_s: float = None                # used when no VFA series or T1 map is given (and for
                                             # voxels outside the tissues of t10_per_tissue)
    t10_per_tissue: dict = None              # {segment name or label value: T10 s}, with tissue labels
    baseline_frames: int = None              # None: frames before the detected bolus arrival
    fit_delay: bool = False
    select_model: bool = False               # per-voxel AICc choice among Patlak/Tofts/extended Tofts
    semi_quantitative: bool = True
    write_concentration: bool = False
    write_fitted_curves: bool = False
    aif_voxels: int = 20                     # automatic AIF: voxels averaged

    def as_dict(self):
        return asdict(self)

    # British spelling accepted for the same setting (code names use "hematocrit").
    @property
    def haematocrit(self):
        return self.hematocrit

    @haematocrit.setter
    def haematocrit(self, value):
        self.hematocrit = value

    def validated(self):
        """``self`` after checking every choice and range; InputError naming the setting otherwise."""
        from TMEMonitorLib.errors import InputError
        if self.model not in MODELS:
            raise InputError(f"model '{self.model}' is not one of {', '.join(MODELS)}")
        if self.aif_source not in AIF_SOURCES:
            raise InputError(f"AIF source '{self.aif_source}' is not one of {', '.join(AIF_SOURCES)}")
        if self.population_aif not in POPULATION_AIFS:
            raise InputError(f"population AIF '{self.population_aif}' is not one of {', '.join(POPULATION_AIFS)}")
        if self.input_kind not in INPUT_KINDS:
            raise InputError(f"input kind '{self.input_kind}' is not one of {', '.join(INPUT_KINDS)}")
        if self.t10_per_tissue is not None:
            if not isinstance(self.t10_per_tissue, dict):
                raise InputError("T10 per tissue: expected a mapping {segment name or label value: T10 s}")
            for name, value in self.t10_per_tissue.items():
                if not isinstance(value, (int, float)) or not 0 < value < 10:
                    raise InputError(f"T10 per tissue: '{name}' = {value} s is implausible (0 to 10 s)")
        if self.blood_t1_s is not None and not 0.5 < float(self.blood_t1_s) < 4.0:
            raise InputError(f"blood T1 {self.blood_t1_s} s is implausible (0.5 to 4 s)")
        if self.t1_method not in T1_METHODS:
            raise InputError(f"T1 method '{self.t1_method}' is not one of {', '.join(T1_METHODS)}")
        if not 0.0 <= self.hematocrit < 1.0:
            raise InputError(f"hematocrit {self.hematocrit} must lie in [0, 1)")
        if self.select_model and self.fit_delay:
            raise InputError("model selection and a fitted delay cannot be combined; choose one")
        if int(self.aif_voxels) < 1:
            raise InputError(f"AIF voxels: {self.aif_voxels} must be at least 1")
        for name in ("relaxivity_per_mM_s", "field_strength_T", "tr_s", "flip_angle_deg", "fixed_t10_s"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise InputError(f"{name.replace('_', ' ')}: {value} must be positive")
        return self
