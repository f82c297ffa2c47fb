"""HypoxiaLogic: the hypoxia analysis between MRML nodes (widget, console, CLI, dashboard).

Resolves the nodes (multi-echo sequences with their echo times and the source of those, dynamic
series with frame times, T1 / field / enhancement maps, masks) into arrays on one grid, refusing
bad input before anything is written; runs :func:`pipeline.analyse_hypoxia`; writes maps with units,
status maps, quality maps (R2 of the fit, echoes used), the Perfused-Oxy-R class map, a per-segment
statistics table (with hypoxic and responder fractions), and the echo times with their source on
every output. If writing fails part-way, the nodes added so far are removed.
"""
from dataclasses import dataclass, field

import numpy as np

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import InputError, MetadataError
from TMEMonitorLib.scene import hierarchy
from TMEMonitorLib.statistics import statistics_table

from . import gas_challenge, hypoxia_map
from .pipeline import DynamicData, EchoData, HypoxiaInputs, T1SeriesData, analyse_hypoxia
from .quantity_names import map_display
from .settings import HypoxiaSettings

ECHO_AXIS_NAMES = ("echo_time", "echotime", "te", "echo time", "echo")
TIME_UNIT_FACTORS = {"s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0, "ms": 1e-3, "msec": 1e-3}
STATUS_LABELS = {"R2star": "R2* fit status", "R2": "R2 fit status", "R2prime": "R2' status", "dR1": "Delta R1 status",
                 "dR2star": "Delta R2* status", "T1_air": "T1 (air) fit status", "T1_gas": "T1 (gas) fit status"}


@dataclass
class HypoxiaResult:
    analysis: object
    map_nodes: dict = field(default_factory=dict)
    status_nodes: dict = field(default_factory=dict)
    class_node: object = None
    table_node: object = None
    folder_item: int = None
    echo_times_source: str = ""


def echo_series(node, echo_times_s=None, what="multi-echo series"):
    """(array (echoes, k, j, i), echo times s, source, ijk_to_ras) from a sequence node.

    The sequence index must be an echo time in s or ms, else ``echo_times_s`` must be given."""
    if node is None or not node.IsA("vtkMRMLSequenceNode"):
        raise InputError(f"{what}: expected a sequence node of echoes")
    array, values, axis_name, unit, ijk_to_ras = tme_scene.sequence_to_array(node)
    if echo_times_s is not None:
        te = np.asarray(echo_times_s, dtype=float).ravel()
        if te.size != array.shape[0]:
            raise InputError(f"{what} '{node.GetName()}': {te.size} echo time(s) given for {array.shape[0]} echoes")
        return array, te, "given by the user", ijk_to_ras
    name = (axis_name or "").strip().lower().replace("_", " ")
    if name.replace(" ", "_") not in ECHO_AXIS_NAMES and name not in ECHO_AXIS_NAMES:
        raise MetadataError(f"{what} '{node.GetName()}' is indexed by '{axis_name}', not by echo time, and no echo "
                            "times were given (--echo-times, ms or s)")
    factor = TIME_UNIT_FACTORS.get((unit or "").strip().lower())
    if factor is None:
        raise MetadataError(f"{what} '{node.GetName()}': echo-time unit '{unit}' is unknown (expected s or ms)")
    source = node.GetAttribute("TMEMonitor.AxisSource") or f"sequence index '{axis_name}' ({unit})"
    return array, values * factor, source, ijk_to_ras


INVERSION_AXIS_NAMES = ("inversion_time", "inversiontime", "ti", "inversion time", "time after inversion",
                        "time_after_inversion", "time")
FLIP_AXIS_NAMES = ("flip_angle", "flipangle", "flip angle", "fa", "flip")


def t1_series(node, method, values=None, what="T1 series"):
    """(array (images, k, j, i), values, source, ijk_to_ras, TR s or None) of a T1-mapping sequence node.

    ``method`` "ir" / "look-locker": the index is the inversion time (time after inversion) in s or ms;
    "vfa": the flip angle in degrees. ``values`` (s or deg) replace the index when given."""
    if node is None or not node.IsA("vtkMRMLSequenceNode"):
        raise InputError(f"{what}: expected a sequence node of images")
    array, index, axis_name, unit, ijk_to_ras = tme_scene.sequence_to_array(node)
    tr = node.GetAttribute("TMEMonitor.TR_s")
    tr = float(tr) if tr not in (None, "") else None
    if values is not None:
        values = np.asarray(values, dtype=float).ravel()
        if values.size != array.shape[0]:
            raise InputError(f"{what} '{node.GetName()}': {values.size} value(s) given for {array.shape[0]} images")
        return array, values, "given by the user", ijk_to_ras, tr
    name = (axis_name or "").strip().lower()
    source = node.GetAttribute("TMEMonitor.AxisSource") or f"sequence index '{axis_name}' ({unit})"
    if method == "vfa":
        if name not in FLIP_AXIS_NAMES or (unit or "deg").strip().lower() not in ("deg", "degree", "degrees", "°"):
            raise MetadataError(f"{what} '{node.GetName()}' is indexed by '{axis_name}' ({unit}), not by flip angle "
                                "in degrees, and no flip angles were given")
        return array, index, source, ijk_to_ras, tr
    factor = TIME_UNIT_FACTORS.get((unit or "").strip().lower())
    if name not in INVERSION_AXIS_NAMES or factor is None:
        raise MetadataError(f"{what} '{node.GetName()}' is indexed by '{axis_name}' ({unit}), not by inversion time "
                            "in s or ms, and no inversion times were given (--ti-air / --ti-gas, ms)")
    return array, index * factor, source, ijk_to_ras, tr


class HypoxiaLogic:
    def __init__(self, scene):
        self.scene = scene

    def resolve_inputs(self, gre_node=None, echo_times_s=None, se_node=None, se_echo_times_s=None, field_map_node=None,
                       oe_node=None, bold_node=None, t1_air_node=None, t1_gas_node=None, t10_node=None,
                       enhancement_node=None, mask_node=None, t1_series_air_node=None, t1_series_gas_node=None,
                       t1_method="ir", t1_values_air=None, t1_values_gas=None):
        """(HypoxiaInputs, ijk_to_ras, metadata); InputError on any missing or mismatched input."""
        reference = None          # (shape, ijk_to_ras, name) of the first input
        inputs = HypoxiaInputs()
        metadata = {}

        def adopt(shape, ijk_to_ras, name):
            nonlocal reference
            if reference is None:
                reference = (tuple(shape), ijk_to_ras, name)
            elif not tme_scene.same_geometry(shape, ijk_to_ras, reference[0], reference[1]):
                raise InputError(f"{name} is on another grid ({tuple(shape)}) than {reference[2]} ({reference[0]}); "
                                 "resample it first")

        for node, times, kind in ((gre_node, echo_times_s, "gre"), (se_node, se_echo_times_s, "se")):
            if node is None:
                continue
            what = "multi-echo gradient echo" if kind == "gre" else "multi-echo spin echo"
            array, te, source, ijk = echo_series(node, times, what)
            adopt(array.shape[1:], ijk, f"{what} '{node.GetName()}'")
            setattr(inputs, kind, EchoData(array, te, source))
        for node, kind in ((oe_node, "oe"), (bold_node, "bold")):
            if node is None:
                continue
            series = tme_scene.series_from_node(node, expected_axis="time")
            adopt(series.array.shape[1:], series.ijk_to_ras, f"dynamic series '{node.GetName()}'")
            setattr(inputs, kind, DynamicData(series.array, series.axis_values,
                                              series.provenance.get("axis_values", "")))
            metadata[kind] = series.metadata
        for node, values, key, what in ((t1_series_air_node, t1_values_air, "t1_series_air", "T1 series before gas"),
                                        (t1_series_gas_node, t1_values_gas, "t1_series_gas", "T1 series during gas")):
            if node is None:
                continue
            array, values, source, ijk, tr = t1_series(node, t1_method, values, what)
            adopt(array.shape[1:], ijk, f"{what} '{node.GetName()}'")
            setattr(inputs, key, T1SeriesData(array, values, source, tr))
        volumes = (("t1_air_s", t1_air_node, "T1 map before gas"), ("t1_gas_s", t1_gas_node, "T1 map during gas"),
                   ("field_map_hz", field_map_node, "field map"), ("t10_s", t10_node, "T10 map"),
                   ("enhancement", enhancement_node, "enhancement map"))
        for key, node, what in volumes:
            if node is None:
                continue
            array, ijk = tme_scene.volume_from_node(node, None, None, what)
            adopt(array.shape, ijk, f"{what} '{node.GetName()}'")
            setattr(inputs, key, array.astype(float))
        if reference is None:
            raise InputError("no input: give a multi-echo series, a dynamic OE/BOLD series or T1 maps before and "
                             "during gas")
        inputs.mask = tme_scene.mask_from_node(self.scene, mask_node, reference[0], reference[1], what="mask")
        return inputs, reference[1], metadata

    @staticmethod
    def _with_metadata(settings, metadata):
        """Settings with TR, flip and dynamic TE filled from the series metadata where not set."""
        from dataclasses import replace
        oe, bold = metadata.get("oe", {}), metadata.get("bold", {})
        fill = {}
        for name, source, key in (("tr_s", oe, "TR_s"), ("flip_angle_deg", oe, "flip_angle_deg"),
                                  ("dynamic_echo_time_s", bold, "TE_s")):
            if getattr(settings, name) is None and isinstance(source.get(key), float):
                fill[name] = source[key]
        return replace(settings, **fill) if fill else settings

    def run(self, settings=None, name_prefix="Hypoxia", parent_item=None, statistics_segmentation=None, progress=None,
            **nodes):
        """Analyse the given nodes (keywords of :meth:`resolve_inputs`) and write the outputs."""
        settings = (settings or HypoxiaSettings()).validated()
        if nodes.get("t1_series_air_node") is not None or nodes.get("t1_series_gas_node") is not None:
            nodes = dict({"t1_method": settings.t1_method}, **nodes)
        inputs, ijk_to_ras, metadata = self.resolve_inputs(**nodes)
        settings = self._with_metadata(settings, metadata)
        shape = inputs.mask.shape if inputs.mask is not None else _grid(inputs)
        statistics_masks = self._statistics_masks(statistics_segmentation, nodes.get("mask_node"), inputs.mask,
                                                  shape, ijk_to_ras)
        analysis = analyse_hypoxia(inputs, settings, progress=progress)
        return self.write_outputs(analysis, ijk_to_ras, name_prefix, parent_item, statistics_masks,
                                  inputs.gre.source if inputs.gre is not None else "")

    def _statistics_masks(self, segmentation, mask_node, mask, shape, ijk_to_ras):
        if segmentation is not None:
            from TMEMonitorLib.scene.inputs import segment_masks
            return segment_masks(self.scene, segmentation, shape, ijk_to_ras)
        name = mask_node.GetName() if mask_node is not None else "all voxels"
        return {name: mask if mask is not None else np.ones(shape, bool)}

    def write_outputs(self, analysis, ijk_to_ras, prefix, parent_item=None, statistics_masks=None, echo_source=""):
        from TMEMonitorLib.scene.inputs import RemoveAddedNodesOnError
        with RemoveAddedNodesOnError(self.scene):
            return self._write_outputs(analysis, ijk_to_ras, prefix, parent_item, statistics_masks, echo_source)

    def _write_outputs(self, analysis, ijk_to_ras, prefix, parent_item, statistics_masks, echo_source):
        scene = self.scene
        result = HypoxiaResult(analysis=analysis, echo_times_source=echo_source)
        recorded = {"settings": "; ".join(f"{k}={v}" for k, v in analysis.settings.as_dict().items() if v is not None)}
        if analysis.echo_times_s is not None:
            recorded.update({"echo_times": " ".join(f"{v:g}" for v in analysis.echo_times_s), "echo_times_unit": "s",
                             "echo_times_source": echo_source})
        description = "; ".join(analysis.notes)
        for name, values in analysis.maps.items():
            quantity = map_display(name)[0]
            node = tme_scene.add_quantity_map(scene, values, ijk_to_ras, f"{prefix} {quantity}", name,
                                              mask=analysis.mask, description=description)
            tme_scene.set_acquisition_attributes(node, recorded)
            result.map_nodes[name] = node
        for name, status in analysis.status.items():
            node = tme_scene.add_status_map(scene, status, ijk_to_ras, f"{prefix} {STATUS_LABELS.get(name, name)}")
            tme_scene.set_acquisition_attributes(node, recorded)
            result.status_nodes[name] = node
        if analysis.classes is not None:
            labels = {value: (hypoxia_map.CLASS_NAMES[value], rgb) for value, rgb in hypoxia_map.CLASS_COLOURS.items()}
            colours = tme_scene.label_color_node(scene, "hypoxia classes", labels)
            result.class_node = tme_scene.add_label_map(scene, analysis.classes, ijk_to_ras, f"{prefix} Perfused-Oxy-R",
                                                        colours)
            result.class_node.SetAttribute("TMEMonitor.Quantity", "hypoxia class")
            result.class_node.SetDescription(description)
        columns, units = self.statistics(analysis, ijk_to_ras, statistics_masks)
        result.table_node = tme_scene.add_table(scene, f"{prefix} statistics", columns, units)
        tme_scene.set_acquisition_attributes(result.table_node, recorded)
        if parent_item is not None:
            result.folder_item = hierarchy.add_folder(scene, parent_item, "Hypoxia")
            for node in [*result.map_nodes.values(), *result.status_nodes.values(), result.class_node,
                         result.table_node]:
                if node is not None:
                    hierarchy.place(scene, node, result.folder_item)
        return result

    @staticmethod
    def statistics(analysis, ijk_to_ras, statistics_masks=None):
        """Table columns: map statistics per segment, then one row per segment for each fraction."""
        masks = statistics_masks or {"all voxels": analysis.mask}
        maps = {n: _snap_constant(v) for n, v in analysis.maps.items() if not n.endswith("_p")}
        columns, column_units = statistics_table(maps, masks, ijk_to_ras, {n: map_display(n)[1] for n in maps},
                                                 status=analysis.status.get("R2star"))
        extra_rows = []
        for segment, mask in masks.items():
            if analysis.classes is not None:
                fractions = hypoxia_map.class_fractions(analysis.classes, mask)
                for key in ("hypoxic_fraction", "hypoxic_fraction_of_perfused", "non_perfused_fraction"):
                    extra_rows.append((segment, key, fractions[key], fractions["n_analysed"]))
            for name, responder in analysis.responders.items():
                fraction = gas_challenge.responder_fraction(responder, mask, analysis.status[name])
                extra_rows.append((segment, f"{name}_responder_fraction", fraction,
                                   int(np.count_nonzero(np.asarray(mask, bool) & (analysis.status[name] == 0)))))
        for segment, name, value, n in extra_rows:
            for key in columns:
                columns[key].append(np.nan if key not in ("segment", "parameter", "unit") else "")
            columns["segment"][-1], columns["parameter"][-1], columns["unit"][-1] = segment, name, "1"
            columns["mean"][-1], columns["n"][-1] = value, n
        return columns, column_units

    def signal_plot(self, result, gre, voxel=None, mask=None, name="R2* signal vs TE", point_node=None):
        """Chart of the measured signal vs TE (ms) with the fitted S0 exp(-R2* TE), for a voxel (k, j, i) or
        the mean over ``mask`` (default: the analysis mask). ``gre``: the GRE node or its array (E, k, j, i)."""
        analysis = getattr(result, "analysis", result)
        if analysis.echo_times_s is None:
            raise InputError("signal plot: the analysis has no R2* fit")
        if hasattr(gre, "IsA"):
            signal = echo_series(gre, analysis.echo_times_s)[0]
        else:
            signal = np.asarray(gre)
        signal = np.abs(signal).astype(float)
        if point_node is not None:
            if not hasattr(gre, "IsA"):
                raise InputError("signal plot: a markups point needs the GRE node (its geometry)")
            region, _ = self.plot_region(analysis, echo_series(gre, analysis.echo_times_s)[3], point_node=point_node,
                                         what="signal plot")
            voxel = tuple(int(v) for v in np.argwhere(region)[0])
        if signal.shape != (analysis.echo_times_s.size,) + tuple(analysis.shape):
            raise InputError(f"signal plot: data of shape {signal.shape} do not match the analysis "
                             f"({analysis.echo_times_s.size} echoes of {analysis.shape})")
        if voxel is not None:
            region = np.zeros(analysis.shape, bool)
            region[tuple(int(v) for v in voxel)] = True
        else:
            region = analysis.mask if mask is None else (np.asarray(mask, bool) & analysis.mask)
        if not region.any():
            raise InputError("signal plot: the region holds no analysed voxel")
        te = analysis.echo_times_s
        measured = signal[:, region].mean(axis=1)
        s0, r2s = analysis.maps["S0"][region], analysis.maps["R2star"][region]
        fitted = np.nanmean(s0[:, None] * np.exp(-r2s[:, None] * te), axis=0)
        return tme_scene.add_plot(self.scene, name, te * 1000.0, {"measured": measured, "fit": fitted}, "TE", "signal",
                                  "ms", "a.u.", styles={"measured": "markers"})

    def plot_region(self, analysis, ijk_to_ras, voxel=None, point_node=None, mask=None, what="plot"):
        """(boolean region on the analysis grid, text): one voxel (k, j, i), the voxel under the first
        control point of a markups node, a mask (array, label map or segmentation node) or, by default,
        the analysed voxels."""
        shape = tuple(analysis.shape)
        if point_node is not None:
            if point_node.GetNumberOfControlPoints() < 1:
                raise InputError(f"{what}: markups '{point_node.GetName()}' has no point")
            from TMEMonitorLib.scene.views import world_point
            position = [0.0, 0.0, 0.0]
            point_node.GetNthControlPointPosition(0, position)
            ras = world_point(point_node, position)
            ijk = np.linalg.inv(np.asarray(ijk_to_ras, float)) @ np.append(ras, 1.0)
            voxel = tuple(int(round(v)) for v in ijk[2::-1])          # (i, j, k) -> (k, j, i)
            label = f"voxel (k, j, i) {voxel} at point '{point_node.GetName()}'"
        elif voxel is not None:
            voxel = tuple(int(v) for v in voxel)
            label = f"voxel (k, j, i) {voxel}"
        if voxel is not None:
            if len(voxel) != 3 or not all(0 <= v < n for v, n in zip(voxel, shape)):
                raise InputError(f"{what}: voxel {voxel} lies outside the grid {shape}")
            region = np.zeros(shape, bool)
            region[voxel] = True
            return region, label
        if mask is None:
            return np.asarray(analysis.mask, bool), "mean of the analysed voxels"
        if hasattr(mask, "IsA"):
            region = tme_scene.mask_from_node(self.scene, mask, shape, ijk_to_ras, what=f"{what} region")
            label = f"mean over '{mask.GetName()}'"
        else:
            region = np.asarray(mask, bool)
            label = "mean over the given region"
            if region.shape != shape:
                raise InputError(f"{what}: region of shape {region.shape} does not match the analysis grid {shape}")
        if not region.any():
            raise InputError(f"{what}: the region holds no voxel")
        return region, label

    def paradigm_plot(self, result, series, kind="oe", voxel=None, point_node=None, mask=None, name=None,
                      t10_s=None):
        """Chart of a dynamic series across the gas paradigm for a voxel, a markups point or a region's mean.

        ``series``: the OE or BOLD sequence node (or (array (T, k, j, i), times s, ijk_to_ras)); ``kind``
        "oe" or "bold". The curve is Delta R1(t) (OE, by exact SPGR inversion with T1 before gas from
        ``t10_s``, the analysis' T1-on-air map or the fixed T10, and the analysis' TR and flip) or
        Delta R2*(t) (BOLD, with the dynamic TE); the relative signal change (%) where those are unknown.
        A second series holds the air (baseline) and gas epoch means, NaN in the wash-in and after the
        gas; the chart's table has the epoch of every frame ("air", "wash-in", "gas", "air after gas")."""
        from .paradigm import gas_epochs
        analysis = getattr(result, "analysis", result)
        settings = analysis.settings
        if kind not in ("oe", "bold"):
            raise InputError(f"paradigm plot: kind '{kind}' is not 'oe' or 'bold'")
        what = "paradigm plot"
        if hasattr(series, "IsA"):
            data = tme_scene.series_from_node(series, expected_axis="time")
            array, times, ijk_to_ras = data.array, np.asarray(data.axis_values, float), data.ijk_to_ras
            title = series.GetName()
        else:
            array, times, ijk_to_ras = series
            array, times, title = np.asarray(array), np.asarray(times, float), kind.upper()
        if array.shape[1:] != tuple(analysis.shape) or array.shape[0] != times.size:
            raise InputError(f"{what}: series of shape {array.shape} with {times.size} frame times does not match "
                             f"the analysis grid {tuple(analysis.shape)}")
        paradigm = settings.paradigm()
        baseline, gas = gas_epochs(times, paradigm)
        region, region_text = self.plot_region(analysis, ijk_to_ras, voxel, point_node, mask, what)
        signal = np.abs(array[:, region]).astype(float).T                  # (voxels, T)
        curve, label, unit = self._paradigm_curve(signal, baseline, kind, settings, analysis, region, t10_s)
        step = np.full(times.size, np.nan)
        step[baseline] = np.nanmean(curve[baseline])
        step[gas] = np.nanmean(curve[gas])
        on, off = float(paradigm.gas_on_s), paradigm.gas_off_s
        epochs = np.where(times < on, "air", np.where(times < on + float(paradigm.wash_in_s), "wash-in", "gas"))
        if off is not None:
            epochs = np.where(times >= float(off), "air after gas", epochs)
        chart_name = name or f"{title} {paradigm.gas} paradigm"
        chart = tme_scene.add_plot(self.scene, chart_name, times, {label: curve, "air and gas epoch means": step},
                                   "time", label, "s", unit, styles={label: "line+markers"})
        table = chart.GetNthPlotSeriesNode(0).GetTableNode()
        tme_scene.add_table(self.scene, table.GetName(), {"time": list(times), label: list(curve),
                                                          "air and gas epoch means": list(step),
                                                          "epoch": [str(e) for e in epochs]},
                            units={"time": "s", label: unit, "air and gas epoch means": unit}, node=table)
        chart.SetAttribute("TMEMonitor.PlotRegion", region_text)
        chart.SetTitle(f"{chart_name}: {region_text}")
        return chart

    @staticmethod
    def _paradigm_curve(signal, baseline, kind, settings, analysis, region, t10_s):
        """(per-frame region mean, label, unit) of the change across the paradigm."""
        import warnings
        with np.errstate(divide="ignore", invalid="ignore"):
            s_base = signal[:, baseline].mean(axis=1, keepdims=True)
            if kind == "bold" and settings.dynamic_echo_time_s is not None:
                ratio = signal / s_base
                values = np.where(ratio > 0, -np.log(np.where(ratio > 0, ratio, 1.0)) / settings.dynamic_echo_time_s,
                                  np.nan)
                return np.nanmean(values, axis=0), "Delta R2*", "1/s"
            t10 = t10_s
            if t10 is None and "T1_air" in analysis.maps:
                t10 = analysis.maps["T1_air"]
            if t10 is None:
                t10 = settings.t10_s
            if kind == "oe" and t10 is not None and settings.tr_s is not None and settings.flip_angle_deg is not None:
                from TMEMonitorLib.relaxometry.spgr import spgr_to_concentration
                t10 = np.asarray(t10, float)
                t10 = t10[region] if t10.ndim == 3 else np.broadcast_to(t10, signal.shape[:1])
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    values = spgr_to_concentration(signal, baseline, t10, settings.tr_s, settings.flip_angle_deg, 1.0)
                return np.nanmean(values, axis=0), "Delta R1", "1/s"
            return np.nanmean(100.0 * (signal / s_base - 1.0), axis=0), "relative signal change", "%"


def _snap_constant(values):
    """A map whose finite values differ only by rounding (range < 1e-9 of their size) as one value.

    TMEMonitorLib.statistics' 64-bin histogram entropy raises on such a range (numpy cannot make
    finite-size bins); a noise-free fit gives exactly that."""
    values = np.asarray(values, dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size > 1:
        low, high = finite.min(), finite.max()
        if 0 < high - low <= 1e-9 * max(abs(low), abs(high)):
            return np.where(np.isfinite(values), float(np.median(finite)), values)
    return values


def _grid(inputs):
    for data in (inputs.gre, inputs.se, inputs.oe, inputs.bold, inputs.t1_series_air):
        if data is not None:
            return data.signal.shape[1:]
    return np.shape(inputs.t1_air_s)
