"""Option types (cli_options), atomic file writes (atomic_files), the staged output folder with its
manifest (output_folder) and the SIGTERM / critical-section handling (termination)."""
import argparse
import json
import os
import shutil
import signal
import tempfile
import unittest

from TMEMonitorLib import atomic_files, cli_options, output_folder, termination
from TMEMonitorLib.errors import InputError


class OptionTypesTest(unittest.TestCase):
    def refused(self, parse, text, *fragments):
        with self.assertRaises(argparse.ArgumentTypeError) as caught:
            parse(text)
        for fragment in fragments:
            self.assertIn(fragment, str(caught.exception))

    def test_numbers_finite_and_in_range(self):
        parse = cli_options.positive(10.0, "s")
        self.assertEqual(parse("1.5"), 1.5)
        for text in ("nan", "inf", "-inf", "1e309", "abc", ""):
            self.refused(parse, text, "(0, 10] s" if text not in ("nan", "inf", "-inf", "1e309") else "finite")
        self.refused(parse, "0", "out of range", "(0, 10] s")
        self.refused(parse, "11", "out of range")
        self.refused(cli_options.non_negative(50.0, "Hz"), "1e6", "[0, 50] Hz")

    def test_integers(self):
        parse = cli_options.integer(1, 8)
        self.assertEqual(parse("4"), 4)
        for text in ("3.5", "1e3", "4096", "0", "-1", "99999999999999999999999"):
            self.refused(parse, text, "[1, 8]")

    def test_lists_and_names(self):
        parse = cli_options.number_list(0.0, 180.0, "deg", low_open=True)
        self.assertEqual(parse("2, 15;30"), (2.0, 15.0, 30.0))
        for text in (",", "x,,y", "nan", "10,200", ""):
            self.refused(parse, text)
        names = cli_options.name_list(("adc", "ivim"))
        self.assertEqual(names("ADC, ivim"), ("adc", "ivim"))
        self.refused(names, ",", "names nothing")
        self.refused(names, "adc,bogus", "unknown: bogus")

    def test_paths_and_output_folder(self):
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder)
        a_file = os.path.join(folder, "f.txt")
        open(a_file, "w").close()
        self.assertEqual(cli_options.existing_file()(a_file), a_file)
        self.refused(cli_options.existing_file(), folder, "is a folder")
        self.refused(cli_options.existing_path(), os.path.join(folder, "missing"), "does not exist")
        out = cli_options.output_folder()
        self.assertEqual(out(os.path.join(folder, "new", "deeper")), os.path.join(folder, "new", "deeper"))
        self.refused(out, a_file, "existing file")
        self.refused(out, os.path.join(a_file, "sub"), "is a file")


class AtomicFilesTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.folder)

    def test_failure_leaves_the_previous_file(self):
        path = os.path.join(self.folder, "table.csv")
        atomic_files.write_text(path, "old\n")
        with self.assertRaises(RuntimeError):
            with atomic_files.open_replacing(path) as handle:
                handle.write("half of the new")
                raise RuntimeError("killed")
        with open(path) as handle:
            self.assertEqual(handle.read(), "old\n")
        self.assertEqual(os.listdir(self.folder), ["table.csv"])

    def test_json_and_leftover_cleanup(self):
        path = atomic_files.write_json(os.path.join(self.folder, "a.json"), {"x": 1})
        with open(path) as handle:
            self.assertEqual(json.load(handle), {"x": 1})
        os.makedirs(os.path.join(self.folder, atomic_files.TEMP_PREFIX + "dead-a.json"))
        self.assertEqual(len(atomic_files.remove_leftovers(self.folder)), 1)
        self.assertEqual(os.listdir(self.folder), ["a.json"])


class OutputFolderTest(unittest.TestCase):
    def setUp(self):
        self.folder = os.path.join(tempfile.mkdtemp(), "out")
        self.addCleanup(shutil.rmtree, os.path.dirname(self.folder))

    def run_set(self, files, fail=False):
        with output_folder.OutputFolder(self.folder, "test", ["test"]) as out:
            for name, text in files.items():
                atomic_files.write_text(out.path(name), text)
            if fail:
                raise InputError("bad input half-way")
            return out.commit()

    def test_new_set_with_manifest_then_fewer_files_set_aside(self):
        first = self.run_set({"a.nrrd": "1", "sub/b.csv": "2", "c.nrrd": "3"})
        self.assertEqual(sorted(first["files"]), ["a.nrrd", "c.nrrd", "sub/b.csv"])
        self.assertEqual(first["files"]["a.nrrd"]["bytes"], 1)
        user = os.path.join(self.folder, "notes.txt")
        atomic_files.write_text(user, "mine")
        second = self.run_set({"a.nrrd": "new"})
        self.assertEqual(second["set_aside"], ["previous/c.nrrd", "previous/sub/b.csv"])
        self.assertFalse(os.path.exists(os.path.join(self.folder, "c.nrrd")))
        self.assertTrue(os.path.isfile(os.path.join(self.folder, "previous", "sub", "b.csv")))
        self.assertTrue(os.path.isfile(user))
        self.assertEqual(output_folder.read_manifest(self.folder)["files"].keys(), {"a.nrrd"})

    def test_failure_part_way_leaves_the_previous_set_and_no_staging(self):
        self.run_set({"a.nrrd": "1"})
        with self.assertRaises(InputError):
            self.run_set({"a.nrrd": "2", "b.nrrd": "3"}, fail=True)
        self.assertEqual(sorted(os.listdir(self.folder)), ["a.nrrd", "manifest.json"])
        with open(os.path.join(self.folder, "a.nrrd")) as handle:
            self.assertEqual(handle.read(), "1")

    def test_failed_first_run_removes_the_folder_it_created(self):
        with self.assertRaises(InputError):
            self.run_set({"a.nrrd": "1"}, fail=True)
        self.assertFalse(os.path.exists(self.folder))

    def test_an_existing_file_is_refused(self):
        os.makedirs(os.path.dirname(self.folder), exist_ok=True)
        atomic_files.write_text(self.folder, "a file")
        with self.assertRaisesRegex(InputError, "--out .*existing file"):
            output_folder.OutputFolder(self.folder, "test").open()

    def test_interrupted_swap_is_rolled_forward(self):
        self.run_set({"a.nrrd": "old", "b.nrrd": "old"})
        out = output_folder.OutputFolder(self.folder, "test").open()
        atomic_files.write_text(out.path("a.nrrd"), "new")
        # what commit() does up to a kill right after the journal: the set is complete
        manifest = {"format": output_folder.MANIFEST_FORMAT, "command": "test", "arguments": [], "version": "",
                    "time": "", "files": {"a.nrrd": {"bytes": 3, "sha256": output_folder.sha256_of(out.path("a.nrrd"))}}}
        atomic_files.write_json(os.path.join(out.staging, output_folder.JOURNAL),
                                {"manifest": manifest, "set_aside": ["b.nrrd"]})
        output_folder.recover(self.folder)      # the next run's first step: an open run is left alone
        self.assertTrue(os.path.isdir(out.staging))
        output_folder._ACTIVE.discard(out.staging)     # as if its process had been killed
        output_folder.recover(self.folder)
        self.assertEqual(sorted(os.listdir(self.folder)), ["a.nrrd", "manifest.json", "previous"])
        with open(os.path.join(self.folder, "a.nrrd")) as handle:
            self.assertEqual(handle.read(), "new")


class TerminationTest(unittest.TestCase):
    def test_sigterm_raises_terminated_and_is_held_in_a_critical_section(self):
        with termination.sigterm_aborts():
            with self.assertRaises(termination.Terminated):
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(1000):
                    pass
            finished = False
            with self.assertRaises(termination.Terminated):
                with termination.deferred():
                    os.kill(os.getpid(), signal.SIGTERM)
                    for _ in range(1000):
                        pass
                    finished = True
            self.assertTrue(finished)
        self.assertEqual(termination.EXIT_CODE, 143)

    def test_sigterm_inside_an_import_is_raised_after_the_import(self):
        # A module whose import receives SIGTERM part way: the import must finish (raising inside it
        # can leave a C extension half initialised, which crashed the interpreter on the next import),
        # and Terminated must come right after it.
        import importlib
        import sys
        import time
        folder = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, folder, True)
        with open(os.path.join(folder, "tme_slow_import_probe.py"), "w", encoding="utf-8") as handle:
            handle.write("import os, signal, time\n"
                         "os.kill(os.getpid(), signal.SIGTERM)\n"
                         "for _ in range(20):\n"
                         "    time.sleep(0.01)\n"
                         "FINISHED = True\n")
        sys.path.insert(0, folder)
        self.addCleanup(sys.path.remove, folder)
        self.addCleanup(sys.modules.pop, "tme_slow_import_probe", None)
        with termination.sigterm_aborts():
            with self.assertRaises(termination.Terminated):
                module = importlib.import_module("tme_slow_import_probe")
                self.assertTrue(module.FINISHED)
                deadline = time.monotonic() + 5.0
                while time.monotonic() < deadline:     # the re-sent signal lands here
                    time.sleep(0.005)
        self.assertTrue(sys.modules["tme_slow_import_probe"].FINISHED)
        self.assertTrue(termination.received())

    def test_checkpoint_is_inert_without_the_variable(self):
        os.environ.pop(termination.KILL_AT_VARIABLE, None)
        termination.checkpoint("after-fit")


if __name__ == "__main__":
    unittest.main()
