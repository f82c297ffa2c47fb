"""Checks shared by the module flow tests (bound controls, running work, node counts)."""
import math
import time


def bound_widgets(widget):
    """{parameter name: widget} for every control of the panel bound with SlicerParameterName."""
    found = {}
    for child in vars(widget.ui).values():
        name = child.property("SlicerParameterName")
        if name:
            found[name] = child
    return found


def check_bindings_both_ways(testcase, widget, env):
    """Every bound control follows its parameter and the parameter follows the control."""
    p = widget._parameterNode
    scene = env.scene
    for name, control in bound_widgets(widget).items():
        original = getattr(p, name)
        _check_one(testcase, p, name, control)
        setattr(p, name, original)


def _check_one(testcase, p, name, control):
    if True:
        cls = control.CLASS
        if cls == "QComboBox":
            items = [control.itemText(i) for i in range(control.count)]
            testcase.assertGreaterEqual(len(items), 1, name)
            other = next((i for i in items if i != getattr(p, name)), items[0])
            control.choose(other)
            testcase.assertEqual(getattr(p, name), other, f"{name}: control -> parameter")
            setattr(p, name, items[0])
            testcase.assertEqual(control.currentText, items[0], f"{name}: parameter -> control")
        elif cls == "QDoubleSpinBox":
            lo, hi = control.minimum, control.maximum
            testcase.assertTrue(math.isfinite(lo) and math.isfinite(hi), f"{name}: range {lo}..{hi} is unbounded")
            target = round(lo + 0.37 * (hi - lo), control.decimals)
            control.type_value(target)
            testcase.assertAlmostEqual(getattr(p, name), target, 6, f"{name}: control -> parameter")
            back = round(lo + 0.5 * (hi - lo), control.decimals)
            setattr(p, name, back)
            testcase.assertAlmostEqual(control.value, back, 6, f"{name}: parameter -> control")
            control.type_value(lo - 1000.0)           # typed below the range: held at the minimum
            testcase.assertEqual(getattr(p, name), lo, f"{name}: below-range value accepted")
        elif cls == "QCheckBox":
            before = getattr(p, name)
            control.click()
            testcase.assertEqual(getattr(p, name), not before, f"{name}: control -> parameter")
            setattr(p, name, before)
            testcase.assertEqual(control.checked, before, f"{name}: parameter -> control")
        elif cls == "QLineEdit":
            control.type_text("typed text")
            testcase.assertEqual(getattr(p, name), "typed text", f"{name}: control -> parameter")
            setattr(p, name, "")
            testcase.assertEqual(control.text, "", f"{name}: parameter -> control")
        elif cls == "qMRMLNodeComboBox":
            listed = control.nodes()
            if listed:
                control.setCurrentNode(listed[-1])
                testcase.assertIs(getattr(p, name), listed[-1], f"{name}: control -> parameter")
            setattr(p, name, None)
            testcase.assertIsNone(control.currentNode(), f"{name}: parameter -> control")
        else:
            testcase.fail(f"{name}: no check for bound {cls}")


def node_counts(scene):
    counts = {}
    for i in range(scene.GetNumberOfNodes()):
        cls = scene.GetNthNode(i).GetClassName()
        counts[cls] = counts.get(cls, 0) + 1
    return counts


class RunObserver:
    """Watches a run through ``slicer.app.processEvents`` (where Qt would deliver clicks and repaints).

    Records whether the work buttons were disabled, the progress values, the longest time
    between two progress updates, and can click Cancel at the ``cancel_at``-th update.
    """

    def __init__(self, env, widget, buttons, cancel_at=None):
        self.env, self.widget, self.buttons, self.cancel_at = env, widget, buttons, cancel_at
        self.calls = 0
        self.buttons_enabled = []
        self.cancel_enabled = []
        self.progress = []
        self.times = []

    def __enter__(self):
        self.env.process_events_hooks.append(self._hook)
        self.times.append(time.perf_counter())
        return self

    def __exit__(self, *exc):
        self.times.append(time.perf_counter())
        self.env.process_events_hooks.remove(self._hook)
        return False

    def _hook(self):
        self.calls += 1
        self.times.append(time.perf_counter())
        self.buttons_enabled.append([b.enabled for b in self.buttons])
        self.cancel_enabled.append(self.widget.ui.cancelButton.enabled)
        self.progress.append(self.widget.ui.progressBar.value)
        if self.cancel_at is not None and self.calls == self.cancel_at:
            self.widget.ui.cancelButton.click()

    @property
    def longest_gap_s(self):
        return max((b - a for a, b in zip(self.times, self.times[1:])), default=0.0)
