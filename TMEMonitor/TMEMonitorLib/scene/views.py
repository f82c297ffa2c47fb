"""What a scene shows when it is opened: layout, slice and plot views, composite layers, chart.

Slicer keeps its views as nodes in the scene (layout node, slice nodes Red/Yellow/Green with
their slice composite nodes, plot view node, selection node); a scene saved with them opens
with those views. Inside Slicer they exist already; a headless scene has them only once made,
so :func:`ensure_views` makes them as Slicer does (its layout logic creates the view nodes of
a view arrangement; a slice composite node per slice view, same singleton tag) so that they are
saved in the .mrb.
"""
import numpy as np
import slicer

DEFAULT_ARRANGEMENT = slicer.vtkMRMLLayoutNode.SlicerLayoutFourUpPlotView    # 3 slice views + a chart
SLICE_VIEWS = ("Red", "Yellow", "Green")


def layout_node(scene):
    return scene.GetSingletonNode("vtkMRMLLayoutNode", "vtkMRMLLayoutNode")


def ensure_views(scene, arrangement=DEFAULT_ARRANGEMENT):
    """The scene's layout node set to ``arrangement``, with the view nodes and slice composite
    nodes that arrangement needs (made when missing; Slicer's own are reused)."""
    logic = slicer.vtkMRMLLayoutLogic()
    logic.SetMRMLScene(scene)               # makes the layout node when the scene has none
    layout = logic.GetLayoutNode() or layout_node(scene)
    layout.SetViewArrangement(arrangement)  # the logic makes the view nodes the arrangement names
    logic.SetMRMLScene(None)
    for name in SLICE_VIEWS:
        slice_composite_node(scene, name)
    selection_node(scene)
    return layout


def slice_node(scene, name):
    return scene.GetSingletonNode(name, "vtkMRMLSliceNode")


def slice_composite_node(scene, name):
    """The slice composite node of slice view ``name`` (Red/Yellow/Green), made when missing."""
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLSliceCompositeNode")):
        node = scene.GetNthNodeByClass(index, "vtkMRMLSliceCompositeNode")
        if node.GetLayoutName() == name:
            return node
    node = slicer.vtkMRMLSliceCompositeNode()
    node.SetSingletonTag(name)
    node.SetLayoutName(name)
    return scene.AddNode(node)


def selection_node(scene):
    node = scene.GetSingletonNode("Singleton", "vtkMRMLSelectionNode")
    if node is None:
        node = slicer.vtkMRMLSelectionNode()
        node.SetSingletonTag("Singleton")
        node = scene.AddNode(node)
    return node


def plot_view_node(scene):
    return scene.GetFirstNodeByClass("vtkMRMLPlotViewNode")


def show_volumes(scene, background=None, foreground=None, opacity=0.6, label=None):
    """Background (anatomy), foreground (a map, at ``opacity``) and label layers of every slice view;
    the selection node's active volumes follow (Slicer's "active volume")."""
    for name in SLICE_VIEWS:
        composite = slice_composite_node(scene, name)
        composite.SetBackgroundVolumeID(background.GetID() if background is not None else None)
        composite.SetForegroundVolumeID(foreground.GetID() if foreground is not None else None)
        composite.SetForegroundOpacity(float(opacity))
        composite.SetLabelVolumeID(label.GetID() if label is not None else None)
    selection = selection_node(scene)
    if background is not None:
        selection.SetActiveVolumeID(background.GetID())
    if foreground is not None:
        selection.SetSecondaryVolumeID(foreground.GetID())


def show_chart(scene, chart):
    """Show a plot chart node in the plot view (and make it the active chart)."""
    view = plot_view_node(scene)
    if view is not None:
        view.SetPlotChartNodeID(chart.GetID())
    selection_node(scene).SetActivePlotChartID(chart.GetID())


def centre_slices(scene, centre_ras, field_of_view_mm):
    """Every slice view centred on ``centre_ras`` with a square field of view (mm)."""
    centre = [float(v) for v in centre_ras]
    for name in SLICE_VIEWS:
        node = slice_node(scene, name)
        if node is None:
            continue
        thickness = node.GetFieldOfView()[2]
        node.SetFieldOfView(float(field_of_view_mm), float(field_of_view_mm), thickness)
        node.JumpSliceByCentering(*centre)


def world_point(node, ras):
    """A point of a node's own space in world (RAS) coordinates, through its parent transforms."""
    transform = node.GetParentTransformNode()
    if transform is None:
        return np.asarray(ras, float)
    import vtk
    to_world = vtk.vtkGeneralTransform()
    transform.GetTransformToWorld(to_world)
    return np.asarray(to_world.TransformPoint([float(v) for v in ras]), float)


def outline_segmentations(scene, visible_nodes=None):
    """Segmentations drawn as outlines in the slice views (no fill); only ``visible_nodes`` shown
    when given (the others hidden, kept)."""
    wanted = None if visible_nodes is None else {n.GetID() for n in visible_nodes}
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLSegmentationNode")):
        node = scene.GetNthNodeByClass(index, "vtkMRMLSegmentationNode")
        if node.GetDisplayNode() is None:
            node.CreateDefaultDisplayNodes()
        display = node.GetDisplayNode()
        display.SetVisibility2DFill(False)
        display.SetVisibility2DOutline(True)
        display.SetSliceIntersectionThickness(2)
        if wanted is not None:
            display.SetVisibility(node.GetID() in wanted)


def lock_markups(scene):
    """Markups that are drawn for reference (MRS voxel boxes) locked, their handles hidden until
    the user picks the node to edit it (Markups module: unlock and show the handles)."""
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLMarkupsNode")):
        node = scene.GetNthNodeByClass(index, "vtkMRMLMarkupsNode")
        node.SetLocked(1)
        if node.GetDisplayNode() is None:
            node.CreateDefaultDisplayNodes()
        display = node.GetDisplayNode()
        if display is not None and hasattr(display, "SetHandlesInteractive"):
            display.SetHandlesInteractive(False)


def collapse_hierarchy(scene, open_items=()):
    """Subject-hierarchy folders collapsed, except ``open_items`` and the items above them."""
    sh = slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)
    ids = _id_list()
    sh.GetItemChildren(sh.GetSceneItemID(), ids, True)
    keep = set()
    for item in open_items:
        while item and item != sh.GetSceneItemID() and item != sh.GetInvalidItemID():
            keep.add(item)
            item = sh.GetItemParent(item)
    children = _id_list()
    for index in range(ids.GetNumberOfIds()):
        item = ids.GetId(index)
        sh.GetItemChildren(item, children, False)
        if children.GetNumberOfIds():
            sh.SetItemExpanded(item, item in keep)


def _id_list():
    import vtk
    return vtk.vtkIdList()


def sequence_proxy(scene, sequence_node):
    """The proxy volume that shows a sequence in the views (its browser's), or None."""
    if sequence_node is None or not sequence_node.IsA("vtkMRMLSequenceNode"):
        return sequence_node
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLSequenceBrowserNode")):
        browser = scene.GetNthNodeByClass(index, "vtkMRMLSequenceBrowserNode")
        if browser.GetMasterSequenceNode() is sequence_node:
            return browser.GetProxyNode(sequence_node)
    return None


def volume_centre_and_field_of_view(node):
    """(centre RAS in world coordinates, square field of view mm) of a volume: its centre, the larger
    of its in-plane extents plus a margin."""
    from .volumes import volume_geometry
    shape, ijk = volume_geometry(node)
    centre_ijk = (np.array(shape[::-1], float) - 1.0) / 2.0
    centre = (ijk @ np.append(centre_ijk, 1.0))[:3]
    extent = np.abs(ijk[:3, :3] @ np.array(shape[::-1], float))
    return world_point(node, centre), float(np.max(extent[:2]) * 1.1)


def show_for_reading(scene, background=None, foreground=None, chart=None, opacity=0.6):
    """A scene written by one analysis (a ``tme-monitor`` command's .mrb) set to open ready to read:
    the key map over its image in the slice views with its colour legend, the chart (AIF, spectrum)
    in the plot view, segmentations as outlines, markups locked. Background and foreground may be
    sequences (their proxy volume is shown)."""
    from .legends import add_color_legend
    background, foreground = sequence_proxy(scene, background), sequence_proxy(scene, foreground)
    arrangement = DEFAULT_ARRANGEMENT if chart is not None else slicer.vtkMRMLLayoutNode.SlicerLayoutFourUpView
    if background is None and foreground is None and chart is not None:
        arrangement = slicer.vtkMRMLLayoutNode.SlicerLayoutOneUpPlotView
    layout = ensure_views(scene, arrangement)
    show_volumes(scene, background=background, foreground=foreground, opacity=opacity)
    if foreground is not None:
        add_color_legend(foreground)
    reference = foreground or background
    if reference is not None and reference.GetImageData() is not None:
        centre, field_of_view = volume_centre_and_field_of_view(reference)
        centre_slices(scene, centre, field_of_view)
    if chart is not None:
        show_chart(scene, chart)
    outline_segmentations(scene)
    lock_markups(scene)
    return layout
