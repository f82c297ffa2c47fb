"""``tme-monitor dce``: every missing acquisition value is asked for at once, naming its flag;
values the file carries (its metadata) or the flags give are not asked for."""
import argparse
import unittest

from TMEMonitorLib.errors import MetadataError

from DCEModuleLib.cli import check_acquisition


class _Series:
    def __init__(self, metadata):
        self.metadata = metadata


def _args(**given):
    values = dict(series="DCE.nii.gz", input_kind="signal", tr=None, flip_angle=None, field=None, relaxivity=None)
    values.update(given)
    return argparse.Namespace(**values)


class MissingAcquisitionTest(unittest.TestCase):
    def test_all_missing_values_in_one_message_with_their_flags(self):
        with self.assertRaises(MetadataError) as caught:
            check_acquisition(_args(), _Series({}))
        text = str(caught.exception)
        for flag in ("--tr", "--flip-angle", "--field"):
            self.assertIn(flag, text)
        self.assertNotIn("_s", text.replace("--", ""))                   # no Python names (TR_s, tr_s)

    def test_values_from_the_file_or_flags_are_not_asked(self):
        check_acquisition(_args(), _Series({"TR_s": 0.005, "flip_angle_deg": 15.0, "field_strength_T": 3.0}))
        check_acquisition(_args(tr=0.005, flip_angle=15.0, relaxivity=4.5), _Series({}))
        with self.assertRaises(MetadataError) as caught:
            check_acquisition(_args(tr=0.004), _Series({"field_strength_T": 3.0}))
        self.assertIn("--flip-angle", str(caught.exception))
        self.assertNotIn("--tr", str(caught.exception))

    def test_concentration_input_needs_none(self):
        check_acquisition(_args(input_kind="concentration"), _Series({}))


if __name__ == "__main__":
    unittest.main()
