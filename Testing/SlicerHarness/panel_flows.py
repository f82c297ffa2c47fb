"""The flows every technique panel is tested through, written once (the per-module test files add
only what is particular to their panel).

A module's test declares a mixin subclass of :class:`PanelFlows` with its ``MODULE``, how its
inputs are made (``make_inputs``, class level: built once per Slicer tag) and put on the
parameter node (``set_inputs``: before every test), and the bad input and message of its error
flow; :func:`for_each_tag` then makes one ``unittest.TestCase`` per vendored Slicer tag::

    class _DiffusionFlows(PanelFlows):
        MODULE = "DiffusionModule"
        ...
    DiffusionPanelSlicer58, DiffusionPanelSlicer510 = for_each_tag(_DiffusionFlows, "DiffusionPanel")

The common tests: bindings both ways (``test_a``), Apply then Apply again without piling up nodes
(``test_c``, with ``check_apply_result`` for the module's own checks), Cancel mid-run with no
dialog and nothing written (``test_d``), bad input shows one clear error dialog (``test_e``).
Test names keep the a–z order the flows rely on (``test_z`` closes the scene last).
"""
import unittest

from . import TAGS, SlicerEnvironment
from .flows import RunObserver, check_bindings_both_ways, node_counts


class PanelFlows:
    TAG = None
    MODULE = None                     # module (panel) name, e.g. "DiffusionModule"
    LABEL = None                      # short name in the printed progress line (default: MODULE)
    WORK_BUTTONS = ("applyButton",)   # disabled while a run is going
    CANCEL_AT = 2                     # progress update at which Cancel is clicked
    BAD_INPUT_MESSAGE = None          # text the error dialog of test_e must contain

    # --- what a module's test provides ---------------------------------------------------------
    @classmethod
    def make_inputs(cls):
        """Build the inputs in ``cls.env.scene`` (class attributes), once per tag."""

    def set_inputs(self, parameters):
        """Put valid inputs on the parameter node (before every test)."""
        raise NotImplementedError

    def make_input_bad(self, parameters):
        """Make the inputs invalid for test_e."""
        raise NotImplementedError

    def check_setup(self):
        """Module-specific checks of the panel as set up (test_a)."""

    def check_apply_result(self, run):
        """Module-specific checks after a successful Apply (test_c)."""

    # --- shared machinery ----------------------------------------------------------------------
    @classmethod
    def setUpClass(cls):
        cls.env = SlicerEnvironment(cls.TAG).__enter__()
        try:
            cls.make_inputs()
            cls.widget = cls.env.create_widget(cls.MODULE)
        except BaseException:
            cls.env.__exit__(None, None, None)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.__exit__(None, None, None)

    @classmethod
    def build_demo_visit(cls, seed, mask_name="tumour mask"):
        """A tiny one-visit demo patient in the scene: ``cls.visit`` (its nodes by role) and
        ``cls.mask`` (the tumour as a label map)."""
        from TMEMonitorApp.demo import build_demo_scene
        from TMEMonitorLib import scene as tme_scene
        cls.visit = build_demo_scene(cls.env.scene, size="tiny", seed=seed, n_visits=1).visits[0]
        cls.mask = tme_scene.add_label_map(cls.env.scene, cls.visit.visit.tumour_mask, cls.visit.visit.ijk_to_ras,
                                           mask_name)

    def setUp(self):
        self.env.dialogs.clear()
        self.set_inputs(self.widget._parameterNode)

    def work_buttons(self):
        return [getattr(self.widget.ui, name) for name in self.WORK_BUTTONS]

    def apply(self, **observer):
        with RunObserver(self.env, self.widget, self.work_buttons(), **observer) as run:
            self.widget.ui.applyButton.click()
        return run

    # --- the common flows ----------------------------------------------------------------------
    def test_a_setup_and_bindings_both_ways(self):
        self.check_setup()
        check_bindings_both_ways(self, self.widget, self.env)

    def test_c_apply_then_apply_again_replaces_outputs(self):
        run = self.apply()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertTrue(all(not any(b) for b in run.buttons_enabled), "work buttons enabled while running")
        self.assertTrue(all(run.cancel_enabled), "Cancel disabled while running")
        self.assertTrue(self.widget.ui.applyButton.enabled)
        self.assertFalse(self.widget.ui.cancelButton.enabled)
        self.check_apply_result(run)
        print(f"[{self.TAG}] {self.LABEL or self.MODULE} apply: {run.calls} progress updates, "
              f"longest gap {run.longest_gap_s:.2f} s")
        counts = node_counts(self.env.scene)
        self.apply()
        self.assertEqual(self.env.error_dialogs(), [])
        self.assertEqual(node_counts(self.env.scene), counts, "second Apply piled up nodes")

    def test_d_cancel_mid_run_no_dialog_nothing_written(self):
        counts = node_counts(self.env.scene)
        run = self.apply(cancel_at=self.CANCEL_AT)
        self.assertGreaterEqual(run.calls, self.CANCEL_AT)
        self.assertEqual(self.env.dialogs, [])
        self.assertIn("cancelled", self.widget.ui.statusLabel.text)
        self.assertEqual(node_counts(self.env.scene), counts)
        self.assertTrue(self.widget.ui.applyButton.enabled)

    def test_e_bad_input_shows_clear_error(self):
        counts = node_counts(self.env.scene)
        self.make_input_bad(self.widget._parameterNode)
        self.widget.ui.applyButton.click()
        dialogs = self.env.error_dialogs()
        self.assertEqual(len(dialogs), 1)
        self.assertIn(self.BAD_INPUT_MESSAGE, dialogs[0]["text"])
        self.assertEqual(node_counts(self.env.scene), counts, "bad input changed the scene")


def for_each_tag(flows, name):
    """One ``unittest.TestCase`` of ``flows`` per vendored Slicer tag: (``<name>Slicer58``, ``<name>Slicer510``)."""
    return tuple(type(f"{name}Slicer{tag.lstrip('v').replace('.', '')[:-1]}", (flows, unittest.TestCase),
                      {"TAG": tag, "__module__": flows.__module__})
                 for tag in TAGS)
