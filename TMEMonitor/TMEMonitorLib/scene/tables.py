"""Table nodes from columns, with a unit and description per column."""
import math

import numpy as np
import vtk


def _is_number(value):
    return value is None or isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def add_table(scene, name, columns, units=None, descriptions=None, node=None):
    """Add (or refill) a vtkMRMLTableNode from ``columns`` (column name -> list of values).

    Numeric columns become double arrays with missing values (None/NaN) stored as NaN and
    shown empty; other columns become strings. Units go to the column's unit label.
    """
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"table '{name}': columns have different lengths {sorted(lengths)}")
    if node is None:
        node = scene.AddNewNodeByClass("vtkMRMLTableNode", scene.GenerateUniqueName(name))
    else:
        node.RemoveAllColumns()
    table = node.GetTable()
    for column_name, values in columns.items():
        if all(_is_number(v) for v in values):
            array = vtk.vtkDoubleArray()
            for value in values:
                array.InsertNextValue(math.nan if value is None else float(value))
        else:
            array = vtk.vtkStringArray()
            for value in values:
                array.InsertNextValue("" if value is None else str(value))
        array.SetName(column_name)
        table.AddColumn(array)
    for column_name, unit in (units or {}).items():
        if unit:
            node.SetColumnUnitLabel(column_name, unit)
    for column_name, text in (descriptions or {}).items():
        node.SetColumnDescription(column_name, text)
    node.Modified()
    return node


def table_to_columns(node):
    """Column name -> list of values (floats or strings) of a table node."""
    table = node.GetTable()
    out = {}
    for c in range(table.GetNumberOfColumns()):
        column = table.GetColumn(c)
        values = [column.GetValue(r) for r in range(table.GetNumberOfRows())]
        out[column.GetName()] = values
    return out
