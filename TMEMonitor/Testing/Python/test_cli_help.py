"""Every option of every ``tme-monitor`` sub-command has help text, and an option with a default
says it (argparse ``%(default)s`` or the words "default"); ``tme-monitor --version`` works."""
import argparse
import contextlib
import io
import unittest

from TMEMonitorApp.cli.main import build_parser, main


class CommandLineHelpTest(unittest.TestCase):
    def test_every_option_has_help_and_states_its_default(self):
        parser = build_parser()
        commands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)][0].choices
        self.assertIn("report", commands)
        problems = []
        for name, command in commands.items():
            for action in command._actions:
                if isinstance(action, argparse._HelpAction):
                    continue
                text = action.help or ""
                if not text:
                    problems.append(f"{name} {action.option_strings or action.dest}: no help")
                elif action.default not in (None, False, argparse.SUPPRESS) and "default" not in text:
                    problems.append(f"{name} {action.option_strings}: default {action.default!r} not stated")
        self.assertEqual(problems, [])

    def test_version(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), self.assertRaises(SystemExit) as stop:
            main(["--version"])
        self.assertEqual(stop.exception.code, 0)
        self.assertRegex(out.getvalue(), r"^tme-monitor \d+\.\d+")

    def test_report_embeds_images_by_default(self):
        parser = build_parser()
        args = parser.parse_args(["report", "scene.mrb", "--out", "x"])
        self.assertTrue(args.embed_images)
        self.assertFalse(parser.parse_args(["report", "scene.mrb", "--out", "x", "--no-embed-images"]).embed_images)


if __name__ == "__main__":
    unittest.main()
