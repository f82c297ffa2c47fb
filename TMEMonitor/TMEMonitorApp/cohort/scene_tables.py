"""A cohort's results as table nodes of a Slicer scene (the dashboard's Cohort section): the long
table, the patients' status and the response calls, read by ``results.load_cohort_results``;
nothing is computed. Loading the same or another cohort again refills the same three nodes."""
COHORT_TABLE = "TMEMonitor.CohortTable"          # which table a node holds (table | status | responses)
COHORT_FOLDER = "TMEMonitor.CohortResults"       # the cohort output folder it was read from
TABLES = (("table", "Cohort biomarkers"), ("status", "Cohort status"), ("responses", "Cohort responses"))
UNITS = {"day": "d", "change_from_baseline_percent": "%", "change_from_baseline_percent_harmonised": "%",
         "seconds": "s"}
DESCRIPTIONS = {
    "value": "measured value, in the row's unit",
    "value_harmonised": "value after ComBat harmonisation across sites (empty: not harmonised)",
    "real_change": "change beyond the repeatability coefficient (yes/no)",
    "response_category": "response category of the primary criterion at this visit",
}


def cohort_table_nodes(scene):
    """{kind: node} of the cohort table nodes already in ``scene``."""
    found = {}
    for index in range(scene.GetNumberOfNodesByClass("vtkMRMLTableNode")):
        node = scene.GetNthNodeByClass(index, "vtkMRMLTableNode")
        kind = node.GetAttribute(COHORT_TABLE)
        if kind:
            found[kind] = node
    return found


def add_result_tables(scene, results):
    """{kind: vtkMRMLTableNode} of ``results`` (``load_cohort_results``), added to ``scene`` or refilled."""
    from TMEMonitorLib.scene import add_table
    existing = cohort_table_nodes(scene)
    nodes = {}
    for kind, name in TABLES:
        columns = results.get(kind) or {}
        node = add_table(scene, name, columns, units={k: v for k, v in UNITS.items() if k in columns},
                         descriptions={k: v for k, v in DESCRIPTIONS.items() if k in columns}, node=existing.get(kind))
        node.SetName(name)
        node.SetAttribute(COHORT_TABLE, kind)
        node.SetAttribute(COHORT_FOLDER, results["out_dir"])
        nodes[kind] = node
    return nodes
