"""Fuzz suite for every reader: corrupted, truncated, bit-flipped and wrong-typed variants of each
input format (seeded, deterministic), each run with a timeout and classified. Every case must end
in a clear error naming the input and the fault, or in a usable result; no bare Python
exception, no error that does not name the input, no invalid result, no silently accepted
truncation of a format that states its length, no hang.

``python Testing/Python/fuzz/run.py`` prints the table of outcomes and the failures."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzz import classify, run  # noqa: E402


class ReaderFuzzTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.outcomes, cls.seconds = run.run_all()
        print("\n" + run.summary(cls.outcomes, cls.seconds))

    def test_no_failures(self):
        failures = ["%s / %s: %s (%s)" % case for case in self.outcomes if case[2] in classify.FAILURES]
        self.assertEqual(failures, [], "\n".join(failures))

    def test_every_format_is_exercised_and_mostly_refused_when_damaged(self):
        formats = {case[0] for case in self.outcomes}
        for name in ("nifti4d.nii", "nifti4d.nii.gz", "nifti3d-int16", "echo-json", "nrrd-seq", "dicom-folder", "rda",
                     "sdat", "spar", "lcmodel-raw", "jmrui-text", "nifti-mrs", "lcmodel-basis", "json-basis",
                     "aif-csv", "bvals", "bids-json.nii"):
            self.assertIn(name, formats)
        clear = sum(1 for case in self.outcomes if case[2] == classify.CLEAR_ERROR)
        self.assertGreater(len(self.outcomes), 500)
        self.assertGreater(clear, len(self.outcomes) // 2)

    def test_truncations_of_formats_with_a_length_are_refused(self):
        for name, label, outcome, detail in self.outcomes:
            if label in ("empty", "cut-50%") and name not in ("bvals", "aif-csv", "lcmodel-raw", "spar"):
                self.assertEqual(outcome, classify.CLEAR_ERROR, (name, label, detail))


if __name__ == "__main__":
    unittest.main()
