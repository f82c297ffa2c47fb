"""Second Apply replaces the first one's outputs instead of piling up duplicates."""
import re

# Colour tables are shared between runs (looked up by name), so they are never removed.
_KEPT_CLASSES = ("vtkMRMLColorNode", "vtkMRMLScriptedModuleNode")


def run_replacing_outputs(scene, holderNode, key, function):
    """Run ``function()``; once it succeeded, remove the nodes the previous run under ``key`` added.

    The IDs of the nodes each run adds are kept as attribute ``TMEMonitor.Outputs.<key>`` of
    ``holderNode`` (the module's parameter node, saved with the scene). A run that fails or is
    cancelled leaves the previous outputs as they were.
    """
    before = {scene.GetNthNode(i).GetID() for i in range(scene.GetNumberOfNodes())}
    result = function()
    added = [scene.GetNthNode(i) for i in range(scene.GetNumberOfNodes())
             if scene.GetNthNode(i).GetID() not in before]
    attribute = f"TMEMonitor.Outputs.{key}"
    previous = (holderNode.GetAttribute(attribute) or "").split()
    removeNodes(scene, previous)
    if previous:
        _takeBackNames(scene, added)
    holderNode.SetAttribute(attribute, " ".join(node.GetID() for node in added
                                                if not any(node.IsA(c) for c in _KEPT_CLASSES)))
    return result


def _takeBackNames(scene, nodes):
    """Outputs of a repeated run named as the ones they replaced ("GRE R2*", not "GRE R2*_1").

    The new nodes are made while the previous ones still exist (a failed run keeps those), so the
    scene gives them unique names; once the previous ones are removed the plain names are free."""
    for node in nodes:
        if node.GetScene() is not scene or node.IsA("vtkMRMLDisplayNode") or node.IsA("vtkMRMLStorageNode") \
                or any(node.IsA(c) for c in _KEPT_CLASSES):
            continue
        name = node.GetName() or ""
        plain = re.sub(r"_\d+$", "", name)
        if plain != name and scene.GetFirstNodeByName(plain) is None:
            node.SetName(plain)


def removeNodes(scene, nodeIDs):
    """Remove the nodes (data nodes first, then their display and storage nodes) still in the scene."""
    nodes = [scene.GetNodeByID(i) for i in nodeIDs]
    nodes = [n for n in nodes if n is not None and not any(n.IsA(c) for c in _KEPT_CLASSES)]
    helpers = [n for n in nodes if n.IsA("vtkMRMLDisplayNode") or n.IsA("vtkMRMLStorageNode")]
    for node in [n for n in nodes if n not in helpers] + helpers:
        if node.GetScene() is scene:
            scene.RemoveNode(node)
