"""ElastographyLogic: the MRE analysis between MRML nodes (widget, console, CLI, dashboard).

Inputs: a sequence node of phase images (frames ordered frequency, direction, phase offset) or
a 4D array with its ijk-to-RAS, and the acquisition layout given explicitly or read from the
node's ``TMEMonitor.MRE*`` attributes. Bad input is refused before anything is written; if
writing fails part-way, the nodes added so far are removed.

Outputs per inversion: |G*|, G', G'' (kPa for display; computed in Pa, recorded on the node),
loss angle phi (rad), shear-wave speed c (m/s), wave amplitude (um), wave SNR, a status map;
the waves (real part of the first harmonic per component, m) as one sequence node per
frequency; per-segment statistics in a table.
"""
import json
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError
from TMEMonitorLib.scene import hierarchy
from TMEMonitorLib.scene import units as scene_units
from TMEMonitorLib.statistics import statistics_table

from . import quantity_names
from .acquisition import MREAcquisition, build_acquisition
from .pipeline import MAP_DISPLAY, analyse_mre
from .settings import ElastographySettings

# Units the shared unit table may not know yet: (UCUM code, meaning).
_EXTRA_UNITS = {"rad": ("rad", "radian"), "m/s": ("m/s", "m/s"), "um": ("um", "µm"), "m": ("m", "m"),
                "Pa": ("Pa", "Pa")}
ATTRIBUTE_KEYS = ("MREFrequencies", "MREPhaseOffsets", "MREDirections", "MREPhaseToDisplacement_um_per_rad")


@dataclass
class ElastographyResult:
    analysis: object
    map_nodes: dict = field(default_factory=dict)       # (method, map name) -> node
    status_nodes: dict = field(default_factory=dict)    # method -> status label map
    wave_nodes: dict = field(default_factory=dict)      # frequency -> sequence of real(U) per component
    table_node: object = None
    folder_item: int = None


def _add_map(scene, values, ijk_to_ras, name, quantity, unit, colormap, mask, description, map_key=None):
    """A map node in its display form; window, map name and display unit from the quantity registry."""
    known = unit in scene_units.UNITS
    entry = quantity_names.entry_of(map_key) if map_key else None
    window = entry.display_limits if entry is not None else None
    node = tme_scene.add_parameter_map(scene, values, ijk_to_ras, name, quantity, unit if known else "1",
                                       colormap, display_range=window, mask=mask, description=description,
                                       window_source="registry" if window else None)
    if entry is not None:
        from TMEMonitorLib.scene import attribute_names
        node.SetAttribute(attribute_names.MAP_NAME, entry.name)
        node.SetAttribute(attribute_names.DISPLAY_UNIT, entry.display_unit)
        node.SetAttribute(attribute_names.DISPLAY_SCALE, "1.0")        # values already in the display unit
    if not known:
        import slicer
        code, meaning = _EXTRA_UNITS[unit]
        entry = slicer.vtkCodedEntry()
        entry.SetValueSchemeMeaning(code, "UCUM", meaning)
        node.SetVoxelValueUnits(entry)
        node.SetAttribute("TMEMonitor.Unit", unit)
    return node


def acquisition_from_node(node, voxel_size_m, n_frames, **given):
    """MREAcquisition from explicit values, else the node's TMEMonitor.MRE* attributes (JSON lists)."""
    def attribute(key):
        text = node.GetAttribute("TMEMonitor." + key) if node is not None else None
        return json.loads(text) if text else None
    sources = {}
    values = {}
    for name, key in zip(("frequencies_hz", "offsets", "directions_ijk", "um_per_rad"), ATTRIBUTE_KEYS):
        if given.get(name) is not None:
            values[name], sources[name] = given[name], "given"
        else:
            values[name] = attribute(key)
            sources[name] = f"TMEMonitor.{key} attribute" if values[name] is not None else "missing"
    return build_acquisition(n_frames, voxel_size_m, values["frequencies_hz"], values["offsets"],
                             directions_ijk=values["directions_ijk"], um_per_rad=values["um_per_rad"],
                             meg=given.get("meg"),
                             sources={"frequencies": sources["frequencies_hz"], "offsets": sources["offsets"],
                                      "directions": sources["directions_ijk"],
                                      "phase_scaling": sources["um_per_rad"]})


class ElastographyLogic:
    def __init__(self, scene):
        self.scene = scene

    def resolve_inputs(self, phase, ijk_to_ras=None, acquisition=None, mask_node=None, **acquisition_values):
        """(phase array, ijk_to_ras, MREAcquisition, mask or None); InputError on any mismatch."""
        node = None
        if hasattr(phase, "IsA"):
            node = phase
            if not node.IsA("vtkMRMLSequenceNode"):
                raise InputError(f"'{node.GetName()}' is a {node.GetClassName()}, not a sequence of phase images")
            array, _, _, _, ijk_to_ras = tme_scene.sequence_to_array(node)
        else:
            array = np.asarray(phase, dtype=float)
            if ijk_to_ras is None:
                raise InputError("phase array given without its ijk_to_ras matrix")
        if array.ndim != 4:
            raise InputError(f"phase images: expected (frames, slices, rows, cols), got shape {array.shape}")
        spacing_mm = tme_scene.spacing_mm(ijk_to_ras)            # (i, j, k) = (col, row, slice)
        voxel_size_m = tuple(float(s) * 1e-3 for s in spacing_mm[::-1])
        if acquisition is None:
            acquisition = acquisition_from_node(node, voxel_size_m, array.shape[0], **acquisition_values)
        elif not isinstance(acquisition, MREAcquisition) or acquisition.n_frames != array.shape[0]:
            raise InputError(f"acquisition layout does not describe the {array.shape[0]} phase images")
        mask = tme_scene.mask_from_node(self.scene, mask_node, array.shape[1:], ijk_to_ras, what="mask")
        return array, ijk_to_ras, acquisition, mask

    def run(self, phase, settings=None, ijk_to_ras=None, acquisition=None, mask_node=None, parent_item=None,
            name_prefix="MRE", statistics_segmentation=None, progress=None, **acquisition_values):
        """Analyse the phase images and write the outputs; returns an :class:`ElastographyResult`.

        ``acquisition_values``: frequencies_hz, offsets, directions_ijk, um_per_rad, meg (override
        the node attributes). ``progress(fraction, message)`` is called between the stages; when it
        raises (Cancel) nothing has been written yet."""
        from TMEMonitorLib.progress import report
        settings = (settings or ElastographySettings()).validated()
        report(progress, 0.0, "reading the phase images")
        array, ijk_to_ras, acquisition, mask = self.resolve_inputs(phase, ijk_to_ras, acquisition, mask_node,
                                                                   **acquisition_values)
        statistics_masks = None
        if statistics_segmentation is not None:
            from TMEMonitorLib.scene.inputs import segment_masks
            statistics_masks = segment_masks(self.scene, statistics_segmentation, array.shape[1:], ijk_to_ras)
        report(progress, 0.1, "unwrapping, first harmonic and inversions")
        analysis = analyse_mre(array, acquisition, settings, mask)
        report(progress, 0.9, "writing maps")
        from TMEMonitorLib.scene.inputs import RemoveAddedNodesOnError
        with RemoveAddedNodesOnError(self.scene):
            result = self._write(analysis, ijk_to_ras, name_prefix, parent_item, statistics_masks)
        report(progress, 1.0, "done")
        return result

    def _write(self, analysis, ijk_to_ras, prefix, parent_item, statistics_masks):
        scene = self.scene
        result = ElastographyResult(analysis=analysis)
        acquisition = analysis.acquisition
        description = "; ".join(analysis.notes)
        recorded = {"frequencies_hz": " ".join(f"{f:g}" for f in acquisition.frequencies_hz),
                    "phase_offsets_rad": " ".join(f"{o:.4g}" for o in acquisition.offsets_rad),
                    "density_kg_m3": analysis.settings.density_kg_m3,
                    **{f"source_{k}": v for k, v in acquisition.provenance.items()}}
        columns, column_units = None, {}
        for method, maps in analysis.results.items():
            display_maps, display_units = {}, {}
            for name, values in maps.items():
                if name not in MAP_DISPLAY:
                    continue
                quantity, internal, unit, factor, colormap = MAP_DISPLAY[name]
                shown = np.asarray(values, float) * factor
                node = _add_map(scene, shown, ijk_to_ras, f"{prefix} {method} {quantity}", quantity, unit, colormap,
                                analysis.mask, description, map_key=name)
                tme_scene.set_acquisition_attributes(node, {**recorded, "method": method,
                                                            "internal_unit": internal or "1",
                                                            "display_factor": factor})
                result.map_nodes[(method, name)] = node
                display_maps[name], display_units[name] = shown, unit
            status_node = tme_scene.add_status_map(scene, maps["status"], ijk_to_ras, f"{prefix} {method} status")
            tme_scene.set_acquisition_attributes(status_node, {**recorded, "method": method})
            result.status_nodes[method] = status_node
            part, column_units = statistics_table(
                {f"{method} {k}": v for k, v in display_maps.items()},
                statistics_masks or {"analysed region": analysis.mask}, ijk_to_ras,
                {f"{method} {k}": u for k, u in display_units.items()}, status=maps["status"])
            if columns is None:
                columns = part
            else:
                for key, values in part.items():
                    columns[key].extend(values)
        for frequency, wave in analysis.waves.items():
            node = tme_scene.array_to_sequence(scene, np.real(wave).astype(np.float32), np.arange(wave.shape[0]),
                                               ijk_to_ras, f"{prefix} wave {frequency:g} Hz", axis_name="component",
                                               axis_unit="", axis_source="real part of the first harmonic per "
                                               "component (slice, row, col axes or the single encoded direction)")
            tme_scene.set_acquisition_attributes(node, {**recorded, "wave_unit": "m" if acquisition.rad_per_m.get(
                frequency) else "rad", "frequency_hz": frequency})
            result.wave_nodes[frequency] = node
        result.table_node = tme_scene.add_table(scene, f"{prefix} elastography statistics", columns, column_units)
        tme_scene.set_acquisition_attributes(result.table_node, recorded)
        if parent_item is not None:
            result.folder_item = hierarchy.add_folder(scene, parent_item, "Elastography")
            for node in [*result.map_nodes.values(), *result.status_nodes.values(), *result.wave_nodes.values(),
                         result.table_node]:
                hierarchy.place(scene, node, result.folder_item)
        return result
