"""Radiomics on the monitoring data (Qt-free): IBSI features (``TMEMonitorLib.radiomics``) of the
tumour and each habitat, per visit, on the anatomy and the techniques' quantitative maps; delta
features from baseline with repeatability where it is known; table nodes, a chart, CSV files and
the report's radiomics section. One file per job:

- ``settings_file``: the parameter file (JSON, or YAML when PyYAML is importable) or a preset
- ``visit_images``: a visit's images and region masks, in the baseline frame when registered
- ``compute``: features of every visit, region and image; deltas (``compute_patient_radiomics``)
- ``repeatability``: the repeatability coefficient of a delta feature, where one is known
- ``nodes``: per-visit table nodes, the delta table and chart in the scene; the report section
- ``outputs``: features.csv, deltas.csv, settings.json and summary.txt
"""
from .compute import RadiomicsResult, compute_patient_radiomics  # noqa: F401
from .nodes import (DEFAULT_PLOT_FEATURES, delta_chart, delta_table_node, feature_names,  # noqa: F401
                    report_section, visit_table_nodes, write_result_nodes)
from .outputs import write_outputs, write_result  # noqa: F401
from .settings_file import DEFAULT_PRESET, PRESET_CHOICES, load_settings  # noqa: F401
from .visit_images import available_images  # noqa: F401
