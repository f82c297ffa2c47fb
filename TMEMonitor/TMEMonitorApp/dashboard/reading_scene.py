"""A patient's scene made ready to read (issue 13): opened, it shows the latest visit's key map over
its anatomy in the three slice views with a colour legend, the change-from-baseline chart beside
them, the tumour as an outline, reference markups locked, follow-up visits placed on the
baseline anatomy through their registration transforms, and the subject hierarchy collapsed but
for the visit on screen. Every setting is a node or attribute of the scene, so a saved .mrb opens
the same way in Slicer.
"""
from dataclasses import dataclass

from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.scene import attribute_names, hierarchy, views
from TMEMonitorLib.scene.legends import add_color_legend, legend_of

from .display import apply_shared_windows
from .patients import baseline_visit, list_visits
from .registration import visit_transform_nodes
from .visit_inputs import visit_biomarker_maps, visit_nodes_by_role

KEY_MAPS = ("Ktrans", "ADC")          # shown first when a visit has them
MAP_OPACITY = 0.6
CHANGE_CHART_NAME = "Change from baseline"


@dataclass
class ReadingScene:
    visit: object                     # patients.VisitInfo on screen (the latest)
    map_node: object                  # its key map (foreground), or None
    anatomy_node: object              # its anatomy (background)
    chart_node: object                # the change chart in the plot view, or None
    layout_node: object
    windows: dict                     # map name -> (lower, upper, source)
    transformed: dict                 # visit name -> transform node its nodes sit under


def place_visits_on_baseline(scene, patient_item):
    """Every follow-up visit's transformable nodes (volumes, segmentations, markups, models) under
    its registration transform, so they sit on the baseline anatomy; {visit name: transform node}.
    The data are not resampled: the arrays the analyses read stay on the visit's own grid."""
    placed = {}
    visits = list_visits(scene, patient_item)
    if not visits:
        return placed
    baseline = baseline_visit(visits)
    for visit in visits:
        if visit.item == baseline.item:
            continue
        transforms = visit_transform_nodes(scene, visit.item)
        if not transforms:
            continue
        transform = transforms[-1]
        for node in hierarchy.children_nodes(scene, visit.item):
            if node.IsA("vtkMRMLTransformableNode") and not node.IsA("vtkMRMLTransformNode"):
                node.SetAndObserveTransformNodeID(transform.GetID())
        placed[visit.name] = transform
    return placed


def change_chart(scene, patient_item):
    """The patient's change-from-baseline chart (the latest one), or None."""
    found = None
    for node in hierarchy.children_nodes(scene, patient_item):
        if node.IsA("vtkMRMLPlotChartNode") and (node.GetAttribute(attribute_names.RESPONSE_CHART) == "change"
                                                 or node.GetName().startswith(CHANGE_CHART_NAME)):
            found = node
    return found


def key_map(scene, visit_item, preferred=None):
    """The visit's map to show: ``preferred``, else the first of KEY_MAPS it has, else any biomarker map."""
    maps = visit_biomarker_maps(scene, visit_item)
    for name in ((preferred,) if preferred else ()) + KEY_MAPS:
        if name in maps:
            return maps[name]
    return next(iter(maps.values()), None)


def prepare_reading_scene(scene, patient_item, preferred_map=None, window_mode="registry", opacity=MAP_OPACITY):
    """Set up the scene for reading (see the module text); returns a ReadingScene."""
    windows = apply_shared_windows(scene, patient_item, window_mode)
    transformed = place_visits_on_baseline(scene, patient_item)
    visits = list_visits(scene, patient_item)
    latest = visits[-1]
    nodes = visit_nodes_by_role(scene, latest.item)
    anatomy = nodes.get("anatomy")
    shown = key_map(scene, latest.item, preferred_map)
    layout = views.ensure_views(scene)
    views.show_volumes(scene, background=anatomy, foreground=shown, opacity=opacity)
    # One legend on screen: the shown map's (other maps' legends hidden, kept).
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLScalarVolumeNode")):
        legend = legend_of(scene.GetNthNodeByClass(index, "vtkMRMLScalarVolumeNode"))
        if legend is not None:
            legend.SetVisibility(False)
    if shown is not None:
        add_color_legend(shown)
    reference = shown or anatomy
    if reference is not None:
        centre, field_of_view = views.volume_centre_and_field_of_view(reference)
        views.centre_slices(scene, centre, field_of_view)
    chart = change_chart(scene, patient_item)
    if chart is not None:
        views.show_chart(scene, chart)
    tumour = nodes.get("tumour")
    views.outline_segmentations(scene, visible_nodes=[tumour] if tumour is not None else None)
    views.lock_markups(scene)
    views.collapse_hierarchy(scene, open_items=[latest.item])
    return ReadingScene(visit=latest, map_node=shown, anatomy_node=anatomy, chart_node=chart, layout_node=layout,
                        windows=windows, transformed=transformed)
