"""Slicer's vtkMRMLDiffusionWeightedVolumeNode (one image component per gradient, per-gradient
b-values and directions) as the DWI input, on a real headless scene."""
import unittest

import numpy as np
import vtk
from vtk.util import numpy_support

from DiffusionModuleLib.inputs_dwi import dwi_series
from DiffusionModuleLib.logic import DiffusionLogic
from DiffusionModuleLib.settings import DiffusionSettings
from TMEMonitorLib import scene as tme_scene
from TMEMonitorLib.errors import MetadataError

# Three directions at each non-zero b, one b = 0 (as a clinical trace acquisition stores them).
B_UNIQUE = np.array([0.0, 50.0, 200.0, 500.0, 800.0, 1000.0])
DIRECTIONS = np.eye(3)


def gradient_table():
    b, g = [0.0], [[0.0, 0.0, 0.0]]
    for value in B_UNIQUE[1:]:
        for direction in DIRECTIONS:
            b.append(value)
            g.append(direction)
    return np.array(b), np.array(g)


def add_dwi_node(scene, signal_components, b_values, gradients, spacing=(1.5, 1.5, 4.0), origin=(10.0, -5.0, 2.0)):
    """signal_components: (slices, rows, cols, n_gradients) float32."""
    slices, rows, cols, n = signal_components.shape
    image = vtk.vtkImageData()
    image.SetDimensions(cols, rows, slices)
    flat = np.ascontiguousarray(signal_components.reshape(-1, n))
    scalars = numpy_support.numpy_to_vtk(flat, deep=True, array_type=vtk.VTK_FLOAT)
    scalars.SetNumberOfComponents(n)
    image.GetPointData().SetScalars(scalars)
    node = scene.AddNewNodeByClass("vtkMRMLDiffusionWeightedVolumeNode", "DWI gradients")
    node.SetAndObserveImageData(image)
    node.SetSpacing(*spacing)
    node.SetOrigin(*origin)
    node.SetNumberOfGradients(n)
    for index in range(n):
        node.SetBValue(index, float(b_values[index]))
        node.SetDiffusionGradient(index, [float(v) for v in gradients[index]])
    return node


class DiffusionWeightedVolumeNodeTest(unittest.TestCase):
    def setUp(self):
        self.scene = tme_scene.create_scene()
        self.b, self.g = gradient_table()
        shape = (2, 5, 4)
        self.d = np.full(shape, 1.2e-3)
        self.d[:, :2] = 0.8e-3
        # Anisotropic tissue: the three directions differ, their geometric mean is the trace signal.
        scales = np.array([1.3, 1.0, 0.7])
        signal = np.empty(shape + (self.b.size,), np.float32)
        signal[..., 0] = 1000.0
        for index in range(1, self.b.size):
            direction = (index - 1) % 3
            signal[..., index] = 1000.0 * np.exp(-self.b[index] * self.d * scales[direction])
        self.node = add_dwi_node(self.scene, signal, self.b, self.g)

    def test_series_has_b_values_directions_and_geometry(self):
        series = dwi_series(self.node)
        self.assertEqual(series.array.shape, (self.b.size, 2, 5, 4))
        np.testing.assert_allclose(series.axis_values, self.b)
        np.testing.assert_allclose(series.metadata["b_vectors"], self.g)
        self.assertIn("per-gradient b-values", series.provenance["axis_values"])
        np.testing.assert_allclose(series.ijk_to_ras[:3, 3], [10.0, -5.0, 2.0])

    def test_logic_fits_the_trace_adc(self):
        # The geometric mean over directions is exp(-b D mean(scales)) = exp(-b D).
        result = DiffusionLogic(self.scene).run(self.node, DiffusionSettings(fit_ivim=False))
        adc = tme_scene.volume_to_array(result.map_nodes["ADC"])
        np.testing.assert_allclose(adc, self.d, rtol=1e-4)
        self.assertEqual(result.map_nodes["ADC"].GetVoxelValueUnits().GetCodeValue(), "mm2/s")
        spacing = result.map_nodes["ADC"].GetSpacing()
        np.testing.assert_allclose(spacing, (1.5, 1.5, 4.0))

    def test_missing_b_values_are_refused_unless_typed(self):
        self.node.SetNumberOfGradients(0)
        count = self.scene.GetNumberOfNodes()
        with self.assertRaises(MetadataError):
            DiffusionLogic(self.scene).run(self.node)
        self.assertEqual(self.scene.GetNumberOfNodes(), count)
        series = dwi_series(self.node, b_values=self.b)
        np.testing.assert_allclose(series.axis_values, self.b)


if __name__ == "__main__":
    unittest.main()
