"""Fuzz suite for the command line: nonsense values for every option of every ``tme-monitor``
sub-command (found from the parser itself), run in-process and classified (see fuzz/cli_cases.py).
Every case must end in a clear error naming the option (exit 2, nothing written) or in a correct
result (exit 0, a complete output set); no traceback, no other exit code, no nonsense accepted."""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzz import cli_cases, cli_inputs  # noqa: E402


# Every sub-command (options declared with TMEMonitorLib.cli_options, issue 11); nested ones by their
# words ("cohort demo"). radiomics and hp13c run on tiny inputs (fuzz/cli_inputs.py); demo, report and the
# cohort commands get nonsense only (accepted values would run a whole cohort/demo).
COMMANDS = ("demo", "info", "dce", "dwi", "mrs", "report", "hypoxia", "mre", "radiomics", "cohort demo",
            "cohort run", "hp13c")


def _register_undiscovered_commands():
    """Techniques whose Lib has a cli.py but no technique.py yet (not discovered by the app) are
    registered for this run, so their options are fuzzed too; returns the names to unregister."""
    import importlib

    from TMEMonitorApp import techniques
    from TMEMonitorLib.techniques import Technique
    added = []
    for name, package in (("hypoxia", "HypoxiaModuleLib"), ("mre", "ElastographyModuleLib")):
        if techniques.get(name) is not None:
            continue
        try:
            cli = importlib.import_module(f"{package}.cli")
        except ImportError:
            continue

        def refuse(*args, **kwargs):
            raise RuntimeError("registered for the CLI fuzz only")
        techniques.register(Technique(name=f"fuzz-{name}", title=name, inputs=(), analyse_visit=refuse,
                                      add_parser=cli.add_parser, order=900))
        added.append(f"fuzz-{name}")
    return added


class CommandLineFuzzTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from TMEMonitorApp import techniques
        from TMEMonitorApp.cli.main import build_parser, run_captured
        cls.folder = tempfile.mkdtemp(prefix="tme-fuzz-cli-")
        added = _register_undiscovered_commands()
        try:
            paths = cli_inputs.make_all(cls.folder)
            out = os.path.join(cls.folder, "out")
            cls.cases = cli_cases.generate(build_parser(), cli_inputs.base_commands(paths, out), paths, out,
                                           commands=COMMANDS)
            cls.outcomes, cls.seconds = cli_cases.run_cases(cls.cases, out, run_captured)
        finally:
            for name in added:
                techniques.REGISTRY.unregister(name)
        print("\n" + cli_cases.summary(cls.outcomes, cls.seconds))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.folder, ignore_errors=True)

    def test_no_failures(self):
        failures = ["%s %s=%r: %s (%s)" % case for case in self.outcomes if case[3] in cli_cases.FAILURES]
        self.assertEqual(failures, [], "\n".join(failures))

    def test_every_sub_command_and_option_is_exercised(self):
        commands = {case[0] for case in self.outcomes}
        for command in COMMANDS:
            self.assertIn(command, commands)
        options = {(case[0], case[1]) for case in self.outcomes}
        for required in (("mrs", "--zero-fill"), ("mrs", "--line-broadening"), ("mrs", "--metabolites"),
                         ("dwi", "--bvals"), ("dce", "--out"), ("dce", "--t10"), ("demo", "--visits"),
                         ("hp13c", "--flip-pyruvate"), ("hp13c", "--tr"), ("hp13c", "--spectra"),
                         ("hp13c", "--centre-ppm"), ("hp13c", "--excitations-per-frame"), ("hp13c", "--mat"),
                         ("radiomics", "--label"), ("radiomics", "--settings"), ("radiomics", "image"),
                         ("cohort demo", "--patients"), ("cohort demo", "--visits"), ("cohort run", "--workers"),
                         ("cohort run", "--connect-timeout"), ("cohort run", "manifest")):
            self.assertIn(required, options)
        self.assertGreater(len(self.outcomes), 500)

    def test_never_valid_values_are_all_refused(self):
        accepted = [c for c in self.outcomes if c[3] == cli_cases.CORRECT and c[2] in cli_cases.NEVER_VALID_NUMBERS]
        self.assertEqual(accepted, [])


if __name__ == "__main__":
    unittest.main()
