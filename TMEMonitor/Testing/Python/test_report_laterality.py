"""Report figures are in radiological convention, as Slicer's axial (Red) slice view shows them.

Slicer's side is computed from Slicer itself (slicer-core): the axial slice node's XY-to-RAS
matrix tells which way the screen x axis runs in RAS. Slicer's default axial orientation is
slice-to-RAS = diag(-1, 1, 1): screen x grows toward RAS -x. RAS +x is the patient's Right
(RAS: x toward Right, y toward Anterior, z toward Superior), so a marker on the patient's Left
(RAS x < 0 of the volume centre) is on the screen's RIGHT half, and the patient's Right on the
screen's left (radiological convention). The test puts a bright marker on the patient's left,
draws the report's figure and finds the marker on the same screen side as Slicer's view.
"""
import unittest

import numpy as np

from TMEMonitorLib.longitudinal import figures


def _ijk_to_ras(flip_i=False, swap=False):
    """A 2 mm grid; i toward +x (Right) as the phantom writes it, or flipped (i toward Left), or i/j swapped."""
    matrix = np.diag([2.0, 2.0, 5.0, 1.0])
    if flip_i:
        matrix[0, 0] = -2.0
    if swap:
        matrix[:3, :2] = [[0.0, 2.0], [2.0, 0.0], [0.0, 0.0]]
    matrix[:3, 3] = (31.0 if flip_i else -31.0, -31.0, 0.0)        # the slice spans RAS -31..31 mm
    return matrix


def _slicer_screen_side(ras_point, ras_centre):
    """'left' / 'right' / 'top' / 'bottom' of ``ras_point`` relative to ``ras_centre`` in Slicer's axial
    Red slice view, from the slice node's own XY-to-RAS matrix."""
    from slicer import vtkMRMLScene, vtkMRMLSliceNode
    scene = vtkMRMLScene()
    vtkMRMLSliceNode.AddDefaultSliceOrientationPresets(scene)
    node = scene.AddNewNodeByClass("vtkMRMLSliceNode")
    node.SetLayoutName("Red")
    assert node.SetOrientation("Axial")
    node.SetDimensions(400, 400, 1)
    node.UpdateMatrices()
    xy_to_ras = np.array([[node.GetXYToRAS().GetElement(r, c) for c in range(4)] for r in range(4)])
    screen_x, screen_y = xy_to_ras[:3, 0], xy_to_ras[:3, 1]     # RAS direction of screen x (right), y (up)
    offset = np.asarray(ras_point, float) - np.asarray(ras_centre, float)
    horizontal = "right" if offset @ screen_x > 0 else "left"
    vertical = "top" if offset @ screen_y > 0 else "bottom"
    return horizontal, vertical, screen_x


class ReportLateralityTest(unittest.TestCase):
    def _marker_volume(self, ijk_to_ras):
        """32 x 32 slice with a bright 4 x 4 marker at RAS x = -20 mm (patient's Left), y = +14 mm
        (Anterior); returns (anatomy, values with the marker, marker RAS centre, slice RAS centre)."""
        shape = (32, 32)
        j, i = np.mgrid[:shape[0], :shape[1]]
        ras = np.einsum("rc,cjk->rjk", ijk_to_ras[:3, :3], np.stack([i, j, np.zeros_like(i)])) \
            + ijk_to_ras[:3, 3, None, None]
        marker = (np.abs(ras[0] + 20.0) <= 4.0) & (np.abs(ras[1] - 14.0) <= 4.0)
        self.assertGreater(marker.sum(), 4)
        anatomy = np.full(shape, 100.0)
        values = np.where(marker, 1.0, np.nan)
        centre = ras.reshape(3, -1).mean(axis=1)
        return anatomy, values, ras[:, marker].mean(axis=1), centre

    def _screen_side_in_figure(self, anatomy, values, ijk_to_ras):
        figure, ax = figures.overlay_figure(anatomy, values, "marker", "a.u.", cmap="autumn", value_range=(0, 1),
                                            ijk_to_ras=ijk_to_ras)
        figure.tight_layout()
        canvas = figure.canvas
        canvas.draw()
        pixels = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
        box = ax.get_window_extent()                              # display pixels, origin at the bottom left
        height = pixels.shape[0]
        x0, x1 = int(np.ceil(box.x0)), int(np.floor(box.x1))
        y0, y1 = height - int(np.floor(box.y1)), height - int(np.ceil(box.y0))
        inside = pixels[y0:y1, x0:x1]
        # the marker: strongly coloured (autumn at 1.0 is yellow over grey); the letters are yellow
        # too but on black boxes at the very edges, so only look away from the edges
        red, green, blue = inside[..., 0], inside[..., 1], inside[..., 2]
        coloured = (red > 180) & (green > 180) & (blue < 90)
        margin_x, margin_y = int(0.08 * inside.shape[1]), int(0.08 * inside.shape[0])
        coloured[:margin_y], coloured[-margin_y:], coloured[:, :margin_x], coloured[:, -margin_x:] = False, False, \
            False, False
        rows, cols = np.nonzero(coloured)
        self.assertGreater(rows.size, 20, "marker not found in the rendered figure")
        horizontal = "right" if cols.mean() > inside.shape[1] / 2 else "left"
        vertical = "top" if rows.mean() < inside.shape[0] / 2 else "bottom"
        return horizontal, vertical

    def test_marker_on_the_same_side_as_slicer_axial_view(self):
        for label, matrix in (("i toward Right", _ijk_to_ras()), ("i toward Left", _ijk_to_ras(flip_i=True)),
                              ("i and j swapped", _ijk_to_ras(swap=True))):
            with self.subTest(label):
                anatomy, values, marker_ras, centre = self._marker_volume(matrix)
                self.assertLess(marker_ras[0], centre[0])          # patient's Left (RAS -x)
                slicer_h, slicer_v, screen_x = _slicer_screen_side(marker_ras, centre)
                # Slicer's axial view: screen x runs toward RAS -x (patient Left) -> radiological
                np.testing.assert_allclose(screen_x / np.linalg.norm(screen_x), [-1, 0, 0], atol=1e-9)
                self.assertEqual((slicer_h, slicer_v), ("right", "top"))
                self.assertEqual(self._screen_side_in_figure(anatomy, values, matrix), (slicer_h, slicer_v))

    def test_orientation_letters(self):
        self.assertEqual(figures.AXIAL_SCREEN_LETTERS, {"left": "R", "right": "L", "top": "A", "bottom": "P"})
        anatomy, values, _, _ = self._marker_volume(_ijk_to_ras())
        _, ax = figures.overlay_figure(anatomy, values, "t", "u", ijk_to_ras=_ijk_to_ras())
        texts = {(round(t.get_position()[0], 2), round(t.get_position()[1], 2)): t.get_text() for t in ax.texts}
        self.assertEqual(texts[(0.01, 0.5)] if (0.01, 0.5) in texts else texts[(0.02, 0.5)], "R")
        self.assertEqual(texts[(0.98, 0.5)] if (0.98, 0.5) in texts else texts[(0.99, 0.5)], "L")
        self.assertIn("A", texts.values())
        self.assertIn("P", texts.values())


if __name__ == "__main__":
    unittest.main()
