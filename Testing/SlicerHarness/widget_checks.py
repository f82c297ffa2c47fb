"""Static checks of a scripted module's widget code against its Qt Designer .ui file.

Widget code cannot run outside Slicer, so tests check it by construction: every
``self.ui.<name>`` the module uses must exist in its .ui file, and every widget's
``SlicerParameterName`` must name a field of its ``@parameterNodeWrapper`` class.
"""
import ast
import re
import xml.etree.ElementTree as ElementTree

_UI_REFERENCE = re.compile(r"\bself\.ui\.(\w+)")


def ui_object_names(ui_path):
    """Names of all widgets, actions and layouts declared in a .ui file."""
    tree = ElementTree.parse(ui_path)
    names = set()
    for tag in ("widget", "action", "layout"):
        for element in tree.iter(tag):
            if element.get("name"):
                names.add(element.get("name"))
    return names


def ui_parameter_bindings(ui_path):
    """{widget name: SlicerParameterName} for the widgets bound to parameters."""
    tree = ElementTree.parse(ui_path)
    bindings = {}
    for widget in tree.iter("widget"):
        for prop in widget.findall("property"):
            if prop.get("name") == "SlicerParameterName":
                value = prop.find("string")
                bindings[widget.get("name")] = value.text if value is not None else ""
    return bindings


def python_ui_references(module_path):
    with open(module_path, encoding="utf-8") as handle:
        return set(_UI_REFERENCE.findall(handle.read()))


def parameter_wrapper_fields(module_path):
    """Field names of every class decorated with @parameterNodeWrapper in a module file."""
    with open(module_path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    fields = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
                (isinstance(d, ast.Name) and d.id == "parameterNodeWrapper")
                or (isinstance(d, ast.Attribute) and d.attr == "parameterNodeWrapper")
                for d in node.decorator_list):
            for statement in node.body:
                if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                    fields.add(statement.target.id)
    return fields


def check_module_widget(module_path, ui_path):
    """List of problems (empty when the widget code and the .ui file agree)."""
    problems = []
    declared = ui_object_names(ui_path)
    for name in sorted(python_ui_references(module_path) - declared):
        problems.append(f"{module_path} uses self.ui.{name}, which {ui_path} does not declare")
    fields = parameter_wrapper_fields(module_path)
    for widget, parameter in sorted(ui_parameter_bindings(ui_path).items()):
        if parameter not in fields:
            problems.append(f"{ui_path}: widget {widget} is bound to parameter '{parameter}', "
                            f"which the parameterNodeWrapper in {module_path} does not define")
    return problems
