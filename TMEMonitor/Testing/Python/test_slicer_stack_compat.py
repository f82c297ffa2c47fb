"""Every Python file of the extension parses and uses only APIs present on Slicer's own stacks.

Slicer 5.8 runs the modules on Python 3.9.10 / numpy 1.26.4 / scipy 1.13.1 / pydicom 2.4.4 and
Slicer 5.10 on Python 3.12.10 / numpy 2.0.2 / scipy 1.13.1 / pydicom 2.4.4. The slicer-free
tests run on both stacks in CI, but code that needs Slicer's MRML scene or the application
(widgets, logics, scene adapters) cannot run on Python 3.9 headless: this static check covers
it. Where a file deliberately uses a newer API behind a version check, the line carries the
comment ``# stack-compat: guarded``.
"""
import ast
import os
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# Every module folder (TMEMonitor and each technique module) plus the shared test and utility code.
FOLDERS = tuple(sorted(name for name in os.listdir(ROOT)
                       if name == "TMEMonitor" or (name.endswith("Module") and os.path.isdir(os.path.join(ROOT, name))))) \
    + ("Testing", "Utilities")
# Slicer's own Python layer, vendored unchanged for the widget harness: each copy runs only on
# the Slicer version it came from (5.10's needs Python 3.10+), so it is not checked here.
SKIPPED = (os.path.join("Testing", "SlicerHarness", "vendor"),)
GUARD = "# stack-compat: guarded"

# numpy attributes that exist only in numpy >= 2 (Slicer 5.8 has 1.26) or were removed in 2.0
# (Slicer 5.10 has 2.0.2).
NUMPY_2_ONLY = {"trapezoid", "concat", "permute_dims", "isdtype", "unique_values", "unique_counts",
                "unique_inverse", "unique_all", "matrix_transpose", "vecdot", "cumulative_sum",
                "cumulative_prod", "unstack", "astype", "bitwise_left_shift", "bitwise_right_shift",
                "bitwise_invert", "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "pow"}
NUMPY_REMOVED_IN_2 = {"NaN", "Inf", "NINF", "PINF", "NZERO", "PZERO", "float_", "complex_", "product",
                      "cumproduct", "alltrue", "sometrue", "round_", "infty", "Infinity", "unicode_", "string_",
                      "asfarray", "msort", "trapz", "find_common_type", "issubclass_", "mat", "cast"}
# Python >= 3.10 names (module -> names).
PYTHON_310_NAMES = {
    "typing": {"TypeAlias", "ParamSpec", "Concatenate", "TypeGuard", "Self", "Never", "LiteralString",
               "Required", "NotRequired", "Unpack", "TypeVarTuple", "assert_never", "reveal_type",
               "dataclass_transform", "override", "is_typeddict"},
    "itertools": {"pairwise", "batched"},
    "enum": {"StrEnum", "verify", "member", "nonmember"},
    "contextlib": {"aclosing", "chdir"},
    "datetime": {"UTC"},
    "math": {"cbrt", "exp2"},
    "sys": {"stdlib_module_names", "orig_argv"},
}
PYTHON_310_MODULES = {"tomllib"}
# keyword arguments that need a newer library or Python: (callable name, keyword) -> why
NEWER_KEYWORDS = {
    ("zip", "strict"): "Python 3.10",
    ("dataclass", "slots"): "Python 3.10",
    ("dataclass", "kw_only"): "Python 3.10",
    ("kmeans2", "rng"): "scipy 1.15 (use seed=)",
    ("save_as", "enforce_file_format"): "pydicom 3 (write_like_original=False on 2.4)",
    ("dcmwrite", "enforce_file_format"): "pydicom 3 (write_like_original=False on 2.4)",
    ("bisect", "key"): "Python 3.10", ("bisect_left", "key"): "Python 3.10",
    ("bisect_right", "key"): "Python 3.10", ("insort", "key"): "Python 3.10",
}


def project_python_files():
    for folder in FOLDERS:
        for directory, subdirectories, files in os.walk(os.path.join(ROOT, folder)):
            subdirectories[:] = [d for d in subdirectories if not d.startswith(".") and d != "__pycache__"
                                 and os.path.relpath(os.path.join(directory, d), ROOT) not in SKIPPED]
            for name in files:
                if name.endswith(".py"):
                    yield os.path.join(directory, name)


def _called_name(call):
    function = call.func
    return function.id if isinstance(function, ast.Name) else getattr(function, "attr", None)


def _has_union_operator(annotation):
    return annotation is not None and any(isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr)
                                          for node in ast.walk(annotation))


def _runtime_annotations(tree):
    """Annotations Python or Slicer evaluates: arguments, returns, module- and class-level names
    (parameterNodeWrapper and dataclasses read class annotations with typing.get_type_hints)."""
    def visit(body, in_function):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                arguments = node.args
                for argument in arguments.posonlyargs + arguments.args + arguments.kwonlyargs + \
                        [a for a in (arguments.vararg, arguments.kwarg) if a is not None]:
                    yield argument.annotation
                yield node.returns
                yield from visit(node.body, True)
            elif isinstance(node, ast.ClassDef):
                yield from visit(node.body, False)
            elif isinstance(node, ast.AnnAssign) and not in_function:
                yield node.annotation
            else:
                for field in ("body", "orelse", "finalbody", "handlers"):
                    yield from visit(getattr(node, field, []) or [], in_function)
    yield from visit(tree.body, False)


def problems_in(path):
    source = open(path, encoding="utf-8").read()
    lines = source.splitlines()
    relative = os.path.relpath(path, ROOT)
    try:
        tree = ast.parse(source, path, feature_version=(3, 9))
    except SyntaxError as error:
        return [f"{relative}:{error.lineno}: not Python 3.9 syntax ({error.msg})"]
    found = []

    def report(node, what):
        line = lines[node.lineno - 1] if 0 < node.lineno <= len(lines) else ""
        if GUARD not in line:
            found.append(f"{relative}:{node.lineno}: {what}")

    for annotation in _runtime_annotations(tree):
        if _has_union_operator(annotation):
            report(annotation, "'X | Y' annotation is evaluated at run time: Python 3.10 (use Optional/Union)")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owner, name = node.value.id, node.attr
            if owner in ("np", "numpy") and name in NUMPY_2_ONLY:
                report(node, f"numpy.{name} needs numpy 2 (Slicer 5.8 bundles 1.26.4)")
            if owner in ("np", "numpy") and name in NUMPY_REMOVED_IN_2:
                report(node, f"numpy.{name} was removed or deprecated in numpy 2 (Slicer 5.10 bundles 2.0.2)")
            if name in PYTHON_310_NAMES.get(owner, ()):
                report(node, f"{owner}.{name} needs Python >= 3.10 (Slicer 5.8 has 3.9)")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                if alias.name in PYTHON_310_NAMES.get(node.module, ()) or \
                        (node.module == "numpy" and alias.name in NUMPY_2_ONLY | NUMPY_REMOVED_IN_2):
                    report(node, f"'from {node.module} import {alias.name}' is not on Slicer 5.8's stack")
            if node.module.split(".")[0] in PYTHON_310_MODULES:
                report(node, f"module {node.module} needs Python >= 3.11")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PYTHON_310_MODULES:
                    report(node, f"module {alias.name} needs Python >= 3.11")
        elif isinstance(node, ast.Call):
            name = _called_name(node)
            for keyword in node.keywords:
                why = NEWER_KEYWORDS.get((name, keyword.arg))
                if why:
                    report(node, f"{name}({keyword.arg}=...) needs {why}")
            if name in ("isinstance", "issubclass") and len(node.args) == 2 and _has_union_operator(node.args[1]):
                report(node, f"{name}(x, A | B) needs Python 3.10 (use a tuple)")
    return found


class SlicerStackCompatibilityTest(unittest.TestCase):
    def test_project_code_is_valid_on_slicer_python_stacks(self):
        problems = [problem for path in project_python_files() for problem in problems_in(path)]
        self.assertEqual(problems, [], "\n".join(problems))

    def test_checker_catches_each_kind_of_problem(self):
        import tempfile
        planted = (
            "import numpy as np\nimport sys\nfrom typing import TypeAlias\nfrom dataclasses import dataclass\n"
            "from scipy.cluster.vq import kmeans2\n"
            "def f(x: int | None) -> float | None:\n"
            "    y: int | None = None  # local annotation: never evaluated, allowed\n"
            "    return np.trapezoid(x) + np.NaN\n"
            "@dataclass(slots=True)\nclass P:\n    value: str | None = None\n"
            "zip([], [], strict=True)\nkmeans2([], 3, rng=None)\nds.save_as('x', enforce_file_format=True)\n"
            "isinstance(1, int | float)\nsys.stdlib_module_names\n"
            "sys.stdlib_module_names  " + GUARD + "\n"
            "match = 1\n")
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
            handle.write(planted)
        try:
            problems = problems_in(handle.name)
        finally:
            os.remove(handle.name)
        lines = sorted(int(problem.split(":")[1]) for problem in problems)
        # 3 TypeAlias, 6 two annotations, 8 trapezoid + NaN, 9 slots, 11 class field, 12 strict,
        # 13 rng, 14 enforce_file_format, 15 isinstance, 16 stdlib_module_names (17: guarded)
        self.assertEqual(lines, [3, 6, 6, 8, 8, 9, 11, 12, 13, 14, 15, 16], "\n".join(problems))
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
            handle.write("match command:\n    case 1:\n        pass\n")
        try:
            self.assertIn("not Python 3.9 syntax", " ".join(problems_in(handle.name)))
        finally:
            os.remove(handle.name)


if __name__ == "__main__":
    unittest.main()
