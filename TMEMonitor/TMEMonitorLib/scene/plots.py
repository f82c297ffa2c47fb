"""Plot chart nodes: series of (x, y) values backed by a table node."""
import numpy as np

from .tables import add_table

_STYLES = {"line": 0, "markers": 1}


def add_plot(scene, name, x, series, x_title, y_title, x_unit="", y_unit="", styles=None, reverse_x=False):
    """Add a chart ``name`` with one plot series per entry of ``series`` (label -> y values).

    ``styles`` maps a label to "line", "markers" or "line+markers". Returns the chart node;
    the data stay in a table node named after the chart.
    """
    x = np.asarray(x, dtype=float)
    columns = {x_title: list(x)}
    for label, y in series.items():
        y = np.asarray(y, dtype=float)
        if y.shape != x.shape:
            raise ValueError(f"plot '{name}': series '{label}' has {y.size} values for {x.size} x values")
        columns[label] = list(y)
    table = add_table(scene, name + " data", columns, units={x_title: x_unit, **{k: y_unit for k in series}})
    chart = scene.AddNewNodeByClass("vtkMRMLPlotChartNode", scene.GenerateUniqueName(name))
    chart.SetTitle(name)
    chart.SetXAxisTitle(f"{x_title} ({x_unit})" if x_unit else x_title)
    chart.SetYAxisTitle(f"{y_title} ({y_unit})" if y_unit else y_title)
    if reverse_x and hasattr(chart, "SetXAxisRange"):
        chart.SetXAxisRangeAuto(False)
        chart.SetXAxisRange(float(np.nanmax(x)), float(np.nanmin(x)))
    for label in series:
        plot = scene.AddNewNodeByClass("vtkMRMLPlotSeriesNode", scene.GenerateUniqueName(f"{name} {label}"))
        plot.SetName(label)
        plot.SetAndObserveTableNodeID(table.GetID())
        plot.SetXColumnName(x_title)
        plot.SetYColumnName(label)
        plot.SetPlotType(plot.PlotTypeScatter)
        style = (styles or {}).get(label, "line")
        plot.SetLineStyle(plot.LineStyleNone if style == "markers" else plot.LineStyleSolid)
        plot.SetMarkerStyle(plot.MarkerStyleNone if style == "line" else plot.MarkerStyleCircle)
        chart.AddAndObservePlotSeriesNodeID(plot.GetID())
    return chart
