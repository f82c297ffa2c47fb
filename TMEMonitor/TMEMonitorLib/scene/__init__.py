"""MRML adapters: the headless scene, volumes, sequences, maps, tables, plots, hierarchy, storage.

Every function takes the scene explicitly: inside Slicer pass ``slicer.mrmlScene``,
headless use :func:`create_scene`.
"""
from .factory import create_scene, module_logic, release_scene  # noqa: F401
from .geometry import (make_ijk_to_ras, node_ijk_to_ras, same_geometry, spacing_mm,  # noqa: F401
                       voxel_volume_ml)
from .volumes import (add_label_map, array_to_volume, set_acquisition_attributes,  # noqa: F401
                      volume_geometry, volume_to_array)
from .sequences import (add_browser, array_to_sequence, axis_provenance,  # noqa: F401
                        multivolume_to_array, sequence_to_array)
from .maps import (add_parameter_map, add_quantity_map, add_status_map, robust_window,  # noqa: F401
                   show_in_slice_views)
from .colormaps import colormap_node, label_color_node, TISSUE_LABELS, FIT_STATUS_LABELS  # noqa: F401
from .tables import add_table, table_to_columns  # noqa: F401
from .plots import add_plot  # noqa: F401
from . import hierarchy  # noqa: F401
from .storage import load_scene, save_scene, write_node  # noqa: F401
from . import attribute_names  # noqa: F401
from .inputs import (NodeSeries, acquisition_metadata, labelmap_to_segmentation, mask_from_node,  # noqa: F401
                     series_from_node, volume_from_node)
