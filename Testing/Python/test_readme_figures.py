"""Utilities/make_readme_figures.py: the radiological display convention, and every README picture present."""
import os
import re
import sys
import unittest

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "Utilities"))

from make_readme_figures import FIGURES, radiological_axial, tumour_slice  # noqa: E402

from update_cmake_lists import MODULES as READMES  # noqa: E402  (every module has a README)


def _ras_volumes(ijk_to_ras, shape=(3, 4, 5)):
    """Volumes (k, j, i) holding each voxel's R and A coordinate."""
    k, j, i = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    ijk = np.stack([i, j, k, np.ones_like(i)]).reshape(4, -1).astype(float)
    ras = (np.asarray(ijk_to_ras, dtype=float) @ ijk)[:3].reshape((3,) + shape)
    return ras[0], ras[1], ras[2]


class RadiologicalAxialTest(unittest.TestCase):
    MATRICES = {
        "RAS": np.diag([2.0, 3.0, 4.0, 1.0]),
        "LPS-like (flipped i, j)": np.array([[-2.0, 0, 0, 0], [0, -3.0, 0, 0], [0, 0, 4.0, 0], [0, 0, 0, 1]]),
        "i along A, j along R": np.array([[0, 3.0, 0, 0], [2.0, 0, 0, 0], [0, 0, 4.0, 0], [0, 0, 0, 1]]),
    }

    def test_patient_right_on_screen_left_anterior_up(self):
        for label, matrix in self.MATRICES.items():
            with self.subTest(label):
                r, a, s = _ras_volumes(matrix)
                image_r, width, height = radiological_axial(r, matrix, 1)
                image_a, _, _ = radiological_axial(a, matrix, 1)
                image_s, _, _ = radiological_axial(s, matrix, 1)
                self.assertTrue(np.all(np.diff(image_r, axis=1) < 0), "R must decrease left to right")
                self.assertTrue(np.all(np.diff(image_a, axis=0) < 0), "A must decrease top to bottom")
                self.assertEqual(np.unique(image_s).size, 1, "one axial slice")
                self.assertAlmostEqual(width, image_r.shape[1] * abs(matrix[0, :3]).max())
                self.assertAlmostEqual(height, image_r.shape[0] * abs(matrix[1, :3]).max())

    def test_oblique_volume_refused(self):
        c, s = np.cos(0.3), np.sin(0.3)
        matrix = np.array([[c, -s, 0, 0], [s, c, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 1]])
        with self.assertRaises(ValueError):
            radiological_axial(np.zeros((2, 3, 4)), matrix, 0)

    def test_tumour_slice_is_the_largest(self):
        mask = np.zeros((4, 5, 6), bool)
        mask[2, 1:4, 1:4] = True
        mask[1, 2, 2] = True
        self.assertEqual(tumour_slice(mask, np.eye(4)), 2)


class ReadmePicturesTest(unittest.TestCase):
    def test_every_figure_exists_and_is_small(self):
        for name in FIGURES.values():
            path = os.path.join(ROOT, "Documentation", name)
            self.assertTrue(os.path.isfile(path), f"{name}: run python Utilities/make_readme_figures.py")
            self.assertLess(os.path.getsize(path), 200 * 1024, name)
            with open(path, "rb") as handle:
                self.assertEqual(handle.read(8), b"\x89PNG\r\n\x1a\n", name)

    def test_each_readme_shows_its_panel_with_a_picture(self):
        for module in READMES:
            with self.subTest(module=module):
                text = open(os.path.join(ROOT, module, "README.md"), encoding="utf-8").read()
                self.assertIn("## Using the panel", text)
                section = text[text.index("## Using the panel"):]
                section = section[:section.find("\n## ", 4)] if "\n## " in section[4:] else section
                pictures = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", section)
                self.assertTrue(pictures, f"{module}: no picture in 'Using the panel'")
                for picture in pictures:
                    self.assertTrue(os.path.isfile(os.path.normpath(os.path.join(ROOT, module, picture))), picture)


if __name__ == "__main__":
    unittest.main()
