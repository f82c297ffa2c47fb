"""The project's import graph, read with ast (nothing is imported): every ``import`` and
``from ... import`` of every file of the project's packages, at module level and inside
functions, relative imports resolved. Used by test_layers (the layer rule and cycles)."""
import ast
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
MODULE_FOLDERS = ("TMEMonitor", "DCEModule", "DiffusionModule", "SpectroscopyModule")


def _package_roots():
    """{top-level package name: folder} of the project's packages (``*Lib`` and ``*App`` folders)."""
    roots = {}
    for entry in sorted(os.listdir(ROOT)):
        folder = os.path.join(ROOT, entry)
        if not os.path.isdir(folder) or entry.startswith("."):
            continue
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if (name.endswith("Lib") or name.endswith("App")) and os.path.isfile(os.path.join(path, "__init__.py")):
                roots[name] = path
    return roots


def project_modules():
    """{dotted module name: file path} of every file of the project's packages."""
    modules = {}
    for top, folder in _package_roots().items():
        base = os.path.dirname(folder)
        for directory, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if not name.endswith(".py"):
                    continue
                relative = os.path.relpath(os.path.join(directory, name), base)[:-3].split(os.sep)
                if relative[-1] == "__init__":
                    relative = relative[:-1]
                modules[".".join(relative)] = os.path.join(directory, name)
    return modules


def _resolve(module, is_package, level, target):
    if level == 0:
        return target
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[:len(base) - (level - 1)] if level > 1 else base
    return ".".join(base + ([target] if target else []))


def imports_of(module, path, modules):
    """[(imported module, line, at module level?)] of one file. ``from X import n`` names the
    module X.n when that is a module of the project, else X."""
    tree = ast.parse(open(path, encoding="utf-8").read(), filename=path)
    is_package = os.path.basename(path) == "__init__.py"
    top_level = set(map(id, tree.body))
    out = []
    for node in ast.walk(tree):
        at_top = id(node) in top_level
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno, at_top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node.level, node.module)
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                out.append((candidate if candidate in modules else target, node.lineno, at_top))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module" \
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            out.append((node.args[0].value, node.lineno, at_top))
    return out


def graph():
    """{module: {imported project module: (line, at module level?)}} (edges to a module's own
    ancestor packages left out: Python runs those first whatever the file says)."""
    modules = project_modules()
    edges = {}
    for module, path in modules.items():
        targets = {}
        for target, line, at_top in imports_of(module, path, modules):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if not target or target == module or module.startswith(target + "."):
                continue
            targets.setdefault(target, (line, at_top))
        edges[module] = targets
    return edges


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(start):
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return sorted(found)
