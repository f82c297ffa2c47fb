"""The cohort manifest: one row per series (patient, visit, date, role, path, site), read from a
CSV or discovered in a BIDS-like folder tree, and validated up front with every problem listed.

CSV columns (header names are case-insensitive; ``scanner`` is accepted for ``site``):
  required  patient, visit, date (YYYY-MM-DD or YYYYMMDD), role, path (relative to the CSV)
  optional  site, timepoint (``baseline`` marks the baseline visit; without the column a visit
            named "baseline" is the baseline, else the earliest), treatment_start (date),
            flip_angles_deg (VFA, ``2;5;10;15``), and any other column: a per-patient
            covariate (age, sex, ...) usable by the harmonisation.
"""
import csv
import datetime
import os
import re
from dataclasses import dataclass, field

from TMEMonitorLib.errors import InputError

# The app's own roles and the spellings accepted for them. The technique roles (dce, vfa, dwi,
# mrs, multi_echo_gre, mre_phase, hp_pyruvate, ...) come from the registered techniques'
# InputRole declarations (known_roles): a new technique module's inputs are manifest roles
# without a change here. The aliases below only add friendly spellings.
ROLE_ALIASES = {
    "dce": ("dce", "dce-mri", "dynamic contrast"),
    "vfa": ("vfa", "variable flip angle", "t1 mapping"),
    "dwi": ("dwi", "diffusion", "ivim"),
    "mrs": ("mrs", "svs", "spectroscopy"),
    "multi_echo_gre": ("multi echo gre", "megre", "r2star", "t2star"),
    "anatomy": ("anatomy", "anatomical", "t1w", "t2w", "structural"),
    "tumour": ("tumour", "tumor", "tumour segmentation", "tumor segmentation", "segmentation", "seg", "lesion"),
    "labels": ("labels", "tissue labels", "label map"),
}
APP_ROLES = ("anatomy", "tumour", "labels")
REQUIRED_COLUMNS = ("patient", "visit", "date", "role", "path")
KNOWN_COLUMNS = REQUIRED_COLUMNS + ("site", "timepoint", "treatment_start", "flip_angles_deg")
COLUMN_ALIASES = {"scanner": "site", "subject": "patient", "session": "visit", "file": "path"}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def technique_roles():
    """{role: technique title} of every input the registered techniques declare, in technique order."""
    from TMEMonitorApp import techniques
    out = {}
    for technique in techniques.techniques():
        for role in technique.inputs:
            out.setdefault(role.role, technique.title)
    return out


# Required inputs of this project's own techniques: known (and analysable) in a manifest even on a
# Python where a technique module cannot be imported (no slicer-core); the run then reports per
# patient that no technique can analyse the visit, instead of the manifest calling the role unknown.
PROJECT_ANALYSED_ROLES = ("dce", "dwi", "mrs", "multi_echo_gre")


def known_roles():
    """Every role a manifest row may name: the techniques' inputs, the project's own roles (ROLE_ALIASES),
    then the app's volumes."""
    roles = dict.fromkeys(technique_roles())
    roles.update(dict.fromkeys(ROLE_ALIASES))
    roles.update(dict.fromkeys(APP_ROLES))
    return tuple(roles)


def analysed_roles():
    """Roles that make a visit analysable: a required input of some registered technique (and of the
    project's own techniques, PROJECT_ANALYSED_ROLES)."""
    from TMEMonitorApp import techniques
    required = [role for t in techniques.techniques() for role in t.required_roles()]
    return tuple(dict.fromkeys(required + list(PROJECT_ANALYSED_ROLES)))


def canonical_role(text):
    """The role a manifest spelling names (an alias above or a technique's role name), else None."""
    key = (text or "").strip().lower().replace("_", " ").replace("-", " ")
    for role, aliases in ROLE_ALIASES.items():
        if key in {a.replace("-", " ") for a in aliases}:
            return role
    for role in known_roles():
        if key == role.replace("_", " "):
            return role
    return None


def parse_date(text):
    """A date from YYYY-MM-DD or YYYYMMDD; None when it does not parse."""
    text = (text or "").strip()
    for form in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def folder_name(patient):
    """The patient's output folder name (file-system safe)."""
    return _SAFE_NAME.sub("_", patient.strip()).strip("._") or "patient"


@dataclass
class Row:
    number: int                 # 1-based data row in the CSV (2 = first line after the header); 0: discovered
    patient: str
    visit: str
    date_text: str
    role_text: str
    path: str                   # absolute
    site: str = ""
    timepoint: str = ""
    treatment_start: str = ""
    flip_angles_deg: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def role(self):
        return canonical_role(self.role_text)

    @property
    def date(self):
        return parse_date(self.date_text)


@dataclass
class Problem:
    where: str                  # "row 5" / "patient P01" / "manifest"
    patient: str
    message: str

    def __str__(self):
        return f"{self.where}: {self.message}"


@dataclass
class Series:
    role: str
    path: str
    flip_angles_deg: list = None


@dataclass
class Visit:
    name: str
    date: datetime.date
    baseline: bool
    day: int
    series: list = field(default_factory=list)


@dataclass
class PatientSpec:
    """What one patient task needs (plain data: it travels to the Dask workers)."""
    patient: str
    folder: str
    site: str
    covariates: dict
    treatment_start: object     # datetime.date or None
    visits: list                # Visit, ordered by date, baseline first

    def input_paths(self):
        return [s.path for v in self.visits for s in v.series]


@dataclass
class Manifest:
    source: str
    rows: list
    problems: list
    patients: dict              # patient -> PatientSpec (valid patients only)
    invalid: dict               # patient -> [Problem]

    def problem_lines(self):
        return [str(p) for p in self.problems]


def read_manifest(path):
    """Rows of a manifest CSV, or of a BIDS-like folder (see :func:`discover_bids`); no validation."""
    path = os.path.abspath(os.fspath(path))
    if os.path.isdir(path):
        return discover_bids(path)
    if not os.path.isfile(path):
        raise InputError(f"manifest '{path}' does not exist (give a CSV file or a BIDS-like folder)")
    with open(path, newline="", encoding="utf-8-sig") as stream:
        reader = csv.reader(stream)
        try:
            header = next(reader)
        except StopIteration:
            raise InputError(f"manifest '{path}' is empty") from None
        names = [COLUMN_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise InputError(f"manifest '{path}': missing column(s) {', '.join(missing)} "
                             f"(required: {', '.join(REQUIRED_COLUMNS)}; found: {', '.join(header)})")
        base = os.path.dirname(path)
        rows = []
        for number, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            record = {name: (values[i].strip() if i < len(values) else "") for i, name in enumerate(names)}
            rows.append(_row(number, record, base))
    return rows


def _row(number, record, base):
    target = record.get("path", "")
    absolute = os.path.normpath(os.path.join(base, target)) if target else ""
    extra = {k: v for k, v in record.items() if k not in KNOWN_COLUMNS and k}
    return Row(number=number, patient=record.get("patient", ""), visit=record.get("visit", ""),
               date_text=record.get("date", ""), role_text=record.get("role", ""), path=absolute,
               site=record.get("site", ""), timepoint=record.get("timepoint", ""),
               treatment_start=record.get("treatment_start", ""), flip_angles_deg=record.get("flip_angles_deg", ""),
               extra=extra)


# BIDS-like file-name suffix (before the extension) -> role.
BIDS_SUFFIXES = {"dce": "dce", "vfa": "vfa", "dwi": "dwi", "svs": "mrs", "mrs": "mrs", "t1w": "anatomy",
                 "t2w": "anatomy", "anat": "anatomy", "dseg": "tumour", "tumour": "tumour", "tumor": "tumour",
                 "mask": "tumour", "labels": "labels"}
_IMAGE_EXTENSIONS = (".nii.gz", ".nii", ".nrrd", ".seq.nrrd", ".nhdr", ".mha", ".mhd")


def discover_bids(root):
    """Rows of a BIDS-like tree: ``sub-<patient>/ses-<visit>/<any folder>/<name>_<suffix>.<ext>``.

    Visit dates come from ``sub-<patient>/sub-<patient>_sessions.tsv`` (columns ``session_id`` and
    ``acq_time`` or ``date``); sites and covariates from ``participants.tsv`` (``participant_id``,
    ``site`` and any other column). The role is the file-name suffix (``_dce``, ``_vfa``, ``_dwi``,
    ``_svs``/``_mrs``, ``_T1w``/``_T2w`` anatomy, ``_dseg``/``_mask`` tumour, ``_labels``); a DICOM
    folder named ``<name>_<suffix>`` counts too. Unknown suffixes become rows with that role, so that
    validation lists them."""
    participants = _read_tsv(os.path.join(root, "participants.tsv"))
    by_participant = {_strip(r.get("participant_id", ""), "sub-"): r for r in participants}
    rows = []
    for subject in sorted(os.listdir(root)):
        subject_dir = os.path.join(root, subject)
        if not (subject.startswith("sub-") and os.path.isdir(subject_dir)):
            continue
        patient = subject[4:]
        info = by_participant.get(patient, {})
        sessions = {_strip(r.get("session_id", ""), "ses-"): (r.get("acq_time") or r.get("date") or "")[:10]
                    for r in _read_tsv(os.path.join(subject_dir, f"{subject}_sessions.tsv"))}
        for session in sorted(os.listdir(subject_dir)):
            session_dir = os.path.join(subject_dir, session)
            if not (session.startswith("ses-") and os.path.isdir(session_dir)):
                continue
            visit = session[4:]
            for path in _session_items(session_dir):
                name = os.path.basename(path)
                stem = name
                for extension in sorted(_IMAGE_EXTENSIONS, key=len, reverse=True):
                    if stem.lower().endswith(extension):
                        stem = stem[:-len(extension)]
                        break
                suffix = stem.rsplit("_", 1)[-1].lower()
                role = BIDS_SUFFIXES.get(suffix, suffix)
                extra = {k: v for k, v in info.items() if k not in ("participant_id", "site")}
                rows.append(Row(number=0, patient=patient, visit=visit, date_text=sessions.get(visit, ""),
                                role_text=role, path=path, site=info.get("site", ""),
                                timepoint="baseline" if visit.lower() in ("baseline", "bl", "pre") else "",
                                extra=extra))
    if not rows:
        raise InputError(f"manifest folder '{root}': no sub-*/ses-* series found (BIDS-like layout expected)")
    return rows


def _session_items(session_dir):
    """Image files and DICOM folders (a folder whose name has a role suffix) under a session."""
    out = []
    for current, folders, files in os.walk(session_dir):
        for folder in list(folders):
            if "_" in folder and folder.rsplit("_", 1)[-1].lower() in BIDS_SUFFIXES:
                out.append(os.path.join(current, folder))
                folders.remove(folder)
        for name in files:
            if name.lower().endswith(_IMAGE_EXTENSIONS) and not name.startswith("."):
                out.append(os.path.join(current, name))
    return sorted(out)


def _strip(text, prefix):
    return text[len(prefix):] if text.startswith(prefix) else text


def _read_tsv(path):
    if not os.path.isfile(path):
        return []
    with open(path, newline="", encoding="utf-8") as stream:
        return [{k.strip(): (v or "").strip() for k, v in r.items() if k} for r in csv.DictReader(stream, delimiter="\t")]


def validate(rows, source=""):
    """Every problem of the manifest at once, and the valid patients as :class:`PatientSpec`."""
    problems = []
    by_patient = {}
    for row in rows:
        where = f"row {row.number}" if row.number else f"'{row.path}'"
        row_problems = []
        for column in ("patient", "visit", "role", "path"):
            if not (getattr(row, column if column != "role" else "role_text") or "").strip():
                row_problems.append(f"empty {column}")
        if row.role_text and row.role is None:
            row_problems.append(f"unknown role '{row.role_text}' (known: {', '.join(known_roles())})")
        if row.date is None:
            row_problems.append(f"date '{row.date_text}' does not parse (expected YYYY-MM-DD)")
        if row.path and not os.path.exists(row.path):
            row_problems.append(f"file '{row.path}' does not exist")
        if row.treatment_start and parse_date(row.treatment_start) is None:
            row_problems.append(f"treatment_start '{row.treatment_start}' does not parse (expected YYYY-MM-DD)")
        if row.flip_angles_deg and _flip_angles(row.flip_angles_deg) is None:
            row_problems.append(f"flip_angles_deg '{row.flip_angles_deg}' is not a list of angles in (0, 90) "
                                "separated by ';'")
        for message in row_problems:
            problems.append(Problem(where, row.patient, message))
        by_patient.setdefault(row.patient, []).append(row)

    patients, folders = {}, {}
    for patient, patient_rows in by_patient.items():
        if not patient:
            continue
        where = f"patient {patient}"
        patient_problems = []
        sites = sorted({r.site for r in patient_rows if r.site})
        if len(sites) > 1:
            patient_problems.append(f"rows name more than one site ({', '.join(sites)})")
        visits = {}
        for row in patient_rows:
            visits.setdefault(row.visit, []).append(row)
        dates = {}
        for visit, visit_rows in visits.items():
            visit_dates = sorted({r.date for r in visit_rows if r.date is not None})
            if len(visit_dates) > 1:
                patient_problems.append(f"visit '{visit}' has rows with different dates "
                                        f"({', '.join(d.isoformat() for d in visit_dates)})")
            if visit_dates:
                dates[visit] = visit_dates[0]
            roles = [r.role for r in visit_rows if r.role]
            for role in sorted({r for r in roles if roles.count(r) > 1}):
                patient_problems.append(f"visit '{visit}' has more than one {role} row")
        marked = [v for v, vr in visits.items() if any(r.timepoint.strip().lower() == "baseline" for r in vr)]
        if not marked:
            marked = [v for v in visits if v.strip().lower() == "baseline"]
        if len(marked) > 1:
            patient_problems.append(f"two baselines: visits {', '.join(repr(v) for v in sorted(marked))}")
        baseline = marked[0] if marked else (min(dates, key=dates.get) if dates else None)
        if baseline in dates:
            for visit, date in sorted(dates.items(), key=lambda item: item[1]):
                if visit != baseline and date < dates[baseline]:
                    patient_problems.append(f"visit '{visit}' ({date.isoformat()}) is dated before the baseline "
                                            f"'{baseline}' ({dates[baseline].isoformat()})")
                elif visit != baseline and date == dates[baseline]:
                    patient_problems.append(f"visit '{visit}' has the same date as the baseline '{baseline}'")
        if baseline in visits:
            base_roles = {r.role for r in visits[baseline]}
            if "tumour" not in base_roles:
                patient_problems.append(f"baseline '{baseline}' has no tumour segmentation row "
                                        "(the response needs the baseline tumour)")
        for visit, visit_rows in visits.items():
            roles = {r.role for r in visit_rows}
            if not roles & set(analysed_roles()):
                wanted = ", ".join(f"{title} ({role})" for role, title in technique_roles().items()
                                   if role in analysed_roles())
                patient_problems.append(f"visit '{visit}' has no series a technique can analyse (roles: {wanted})")
            if len(visits) > 1 and "anatomy" not in roles:
                patient_problems.append(f"visit '{visit}' has no anatomy image (needed to register it to baseline)")
        folder = folder_name(patient)
        if folder in folders:
            patient_problems.append(f"output folder name '{folder}' is the same as patient '{folders[folder]}''s")
        folders.setdefault(folder, patient)
        for message in patient_problems:
            problems.append(Problem(where, patient, message))
        row_failed = any(p.patient == patient for p in problems)
        if row_failed:
            continue
        patients[patient] = _spec(patient, folder, patient_rows, visits, dates, baseline, sites)

    invalid = {}
    for problem in problems:
        invalid.setdefault(problem.patient or "(no patient)", []).append(problem)
    for patient in invalid:
        patients.pop(patient, None)
    return Manifest(source=source, rows=rows, problems=problems, patients=patients, invalid=invalid)


def _flip_angles(text):
    try:
        values = [float(v) for v in text.replace(",", ";").split(";") if v.strip()]
    except ValueError:
        return None
    return values if values and all(0 < v < 90 for v in values) else None


def _spec(patient, folder, rows, visits, dates, baseline, sites):
    starts = {parse_date(r.treatment_start) for r in rows if r.treatment_start}
    start = sorted(starts)[0] if starts else None
    zero = start or dates[baseline]
    covariates = {}
    for row in rows:
        for key, value in row.extra.items():
            if value != "":
                covariates.setdefault(key, value)
    ordered = sorted(visits, key=lambda v: (v != baseline, dates[v]))
    order = known_roles()
    out = []
    for name in ordered:
        series = [Series(role=r.role, path=r.path, flip_angles_deg=_flip_angles(r.flip_angles_deg)
                         if r.flip_angles_deg else None)
                  for r in sorted(visits[name], key=lambda r: order.index(r.role))]
        out.append(Visit(name=name, date=dates[name], baseline=name == baseline, day=(dates[name] - zero).days,
                         series=series))
    return PatientSpec(patient=patient, folder=folder, site=sites[0] if sites else "unknown", covariates=covariates,
                       treatment_start=start, visits=out)


def load(path):
    """Read and validate a manifest (CSV or folder)."""
    rows = read_manifest(path)
    return validate(rows, source=os.path.abspath(os.fspath(path)))


def write_manifest(path, records):
    """Write a manifest CSV from dicts (the ``cohort demo`` writer); paths relative to the CSV."""
    columns = list(REQUIRED_COLUMNS) + ["site", "timepoint"]
    for record in records:
        for key in record:
            if key not in columns:
                columns.append(key)
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        for record in records:
            writer.writerow({k: record.get(k, "") for k in columns})
    return path
