"""Leave the scene as it was when an operation fails part-way: remove the nodes it added and
the subject-hierarchy items it made (folders, and items of removed nodes that outlive them)."""


def _sh(scene):
    import slicer
    return slicer.vtkMRMLSubjectHierarchyNode.GetSubjectHierarchyNode(scene)


def _item_ids(sh):
    import vtk
    ids = vtk.vtkIdList()
    sh.GetItemChildren(sh.GetSceneItemID(), ids, True)
    return {ids.GetId(i) for i in range(ids.GetNumberOfIds())}


def _node_ids(scene):
    return {scene.GetNthNode(i).GetID() for i in range(scene.GetNumberOfNodes())}


class RemoveAddedNodesOnError:
    """Context manager: if the block raises, the nodes and subject-hierarchy items it added are
    removed (the scene is left as it was); the exception goes on."""

    def __init__(self, scene):
        self.scene = scene

    def __enter__(self):
        self.before = _node_ids(self.scene)
        sh = _sh(self.scene)
        self.items_before = _item_ids(sh) if sh is not None else set()
        return self

    def __exit__(self, kind, value, traceback):
        if kind is not None:
            self.roll_back()
        return False

    def roll_back(self):
        scene = self.scene
        for node in [scene.GetNthNode(i) for i in range(scene.GetNumberOfNodes())]:
            if node is not None and node.GetID() not in self.before:
                scene.RemoveNode(node)
        sh = _sh(scene)
        if sh is None:
            return
        # Deepest items first, so that removing a folder never takes an older item with it.
        added = [item for item in _item_ids(sh) - self.items_before]
        depth = {item: _depth(sh, item) for item in added}
        for item in sorted(added, key=lambda i: -depth[i]):
            # Items of removed nodes can outlive them (headless, nothing cleans them up): an added
            # item is kept only when its data node is still in the scene.
            node = sh.GetItemDataNode(item)
            if node is not None and scene.GetNodeByID(node.GetID()) is node:
                continue
            if item in _item_ids(sh):
                sh.RemoveItem(item, False, False)


def _depth(sh, item):
    depth = 0
    scene_item = sh.GetSceneItemID()
    while item and item != scene_item:
        item = sh.GetItemParent(item)
        depth += 1
    return depth
