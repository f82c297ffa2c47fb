"""Nonsense values for every option of every ``tme-monitor`` sub-command, run in-process through
``TMEMonitorApp.cli.main.run_captured`` and classified.

The options are found by introspecting the real parser (``build_parser``): an option added later
is fuzzed without editing this file. Each case replaces (or adds) one option of a valid base
command (fuzz/cli_inputs.py) with a nonsense value chosen by the option's kind:

- numbers: text, -1, 0, nan, inf, -inf, 1e308, 1e309, a huge integer, empty;
- whole numbers: also 3.5;
- choices: an unknown word, empty;
- paths: a missing file, a folder where a file belongs, a binary file, a text file, empty;
- --out: an existing file, a path under a file, empty;
- lists/names: ',', 'x,,y', nan, empty.

Outcomes:
- ``clear error``: exit code 2 and a message naming the option (or the positional argument, or
  the file given), nothing written to --out;
- ``correct result``: exit 0 and a complete output set (its manifest lists files that exist) —
  allowed only for values that can be legitimate (-1, 0, a choice, a path);
- ``FAILURE: ...``: a traceback/exception, an exit code other than 0/2, exit 2 without naming
  the option, exit 0 on a value that is never valid (nan, inf, 1e308, text where a number
  belongs, ...), or partial output left in --out.
"""
import argparse
import os
import shutil
import time

CLEAR_ERROR = "clear error"
CORRECT = "correct result"
FAILURES = ("FAILURE: exception", "FAILURE: exit code", "FAILURE: error not naming the option",
            "FAILURE: nonsense accepted", "FAILURE: partial output")

NEVER_VALID_NUMBERS = ["abc", "nan", "inf", "1e308", "1e309", "99999999999999999999999", "", "0x1p3"]
MAYBE_VALID_NUMBERS = ["-1", "0"]
SKIP_DESTS = {"help"}


def _kind(action):
    """What an option holds: 'number', 'integer', 'choice', 'path', 'file', 'out', 'list', 'text'."""
    if action.choices:
        return "choice"
    name = getattr(action.type, "__name__", "") if action.type else ""
    if action.type in (float,) or name == "number":
        return "number"
    if action.type is int or name == "integer":
        return "integer"
    if name == "output_folder":
        return "out"
    if name in ("existing_path", "existing_file"):
        return "file" if name == "existing_file" else "path"
    if name in ("number_list", "name_list", "_steps", "_directions", "_t10_per_tissue", "_flip_schedule"):
        return "list"
    return "text"


def nonsense_values(kind, paths, out):
    """[(value, never_valid)] for an option of ``kind``."""
    if kind == "number":
        return [(v, True) for v in NEVER_VALID_NUMBERS] + [(v, False) for v in MAYBE_VALID_NUMBERS]
    if kind == "integer":
        return [(v, True) for v in NEVER_VALID_NUMBERS + ["3.5"]] + [(v, False) for v in MAYBE_VALID_NUMBERS]
    if kind == "choice":
        return [("no-such-choice", True), ("", True)]
    if kind in ("path", "file"):
        values = [(os.path.join(paths["folder"], "missing.nii.gz"), True), ("", True),
                  (paths["binary"], False), (paths["text"], False)]
        values.append((paths["folder"], kind == "file"))
        return values
    if kind == "out":
        return [(paths["text"], True), (os.path.join(paths["text"], "sub"), True), ("", True)]
    if kind == "list":
        return [(",", True), ("x,,y", True), ("nan", True), ("", True), ("1e309", True), ("-1", False)]
    return [("", True)]


def _option_table(parser, prefix=""):
    """{command: (subparser, [actions])} of the parser; nested sub-commands ('cohort demo') are
    commands of their own (the words joined by a space)."""
    table = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                name = f"{prefix}{command}"
                nested = _option_table(sub, prefix=f"{name} ")
                table.update(nested)
                table[name] = (sub, [a for a in sub._actions if a.dest not in SKIP_DESTS
                                     and not isinstance(a, argparse._SubParsersAction)])
    return table


def _replace(argv, action, value, n_command_words=1):
    """``argv`` with ``action`` given ``value`` (once per argument slot it takes)."""
    count = action.nargs if isinstance(action.nargs, int) else 1
    if not action.option_strings:            # positional: replace it (the first one after the command words)
        return argv[:n_command_words] + [value] + argv[n_command_words + 1:]
    flag = action.option_strings[-1]
    argv = list(argv)
    for flag_name in action.option_strings:
        if flag_name in argv:
            index = argv.index(flag_name)
            end = index + 1
            while end < len(argv) and not argv[end].startswith("--"):
                end += 1
            del argv[index:end]
    # '--flag=value' keeps a value like '-1' or '-inf' from being read as an option
    return argv + ([f"{flag}={value}"] if count == 1 else [flag] + [value] * count)


def generate(parser, bases, paths, out, commands=None):
    """[(command, option, value, argv, never_valid)] for every option of every command (of
    ``commands`` when given)."""
    cases = []
    for command, (_, actions) in sorted(_option_table(parser).items()):
        if commands is not None and command not in commands:
            continue
        base = bases.get(command)
        words = command.split()
        if base is None:
            base = words + ([paths["mrs"]] if any(not a.option_strings for a in actions) else [])
            base += ["--out", out] if any(a.dest == "out" for a in actions) else []
            run_accepted = False
        else:
            run_accepted = True
        for action in actions:
            if action.nargs == 0:            # a switch: no value to fuzz
                continue
            kind = _kind(action)
            name = action.option_strings[-1] if action.option_strings else action.dest
            for value, never_valid in nonsense_values(kind, paths, out):
                if not run_accepted and not never_valid:
                    continue                  # would run the whole demo/report: not a fuzz case
                argv = _replace(base, action, value, len(words))
                cases.append((command, name, value, argv, never_valid))
    return cases


def _names_option(stderr, command, option, value):
    text = stderr.lower()
    if option.lower() in text:
        return True
    if not option.startswith("--") and (f"argument {option}" in text or option.replace("_", " ") in text):
        return True
    if value and len(value) > 2 and (value.lower() in text or os.path.basename(value).lower() in text):
        return True                     # a positional file argument, named by its path
    return False


def classify(code, stdout, stderr, command, option, value, never_valid, out, exception=None):
    if exception is not None:
        return "FAILURE: exception", f"{type(exception).__name__}: {exception}"
    if "Traceback (most recent call last)" in stderr + stdout:
        return "FAILURE: exception", stderr[-300:]
    if code == 2:
        if os.path.isdir(out) and os.listdir(out):
            return "FAILURE: partial output", f"{sorted(os.listdir(out))[:5]}"
        if not _names_option(stderr, command, option, value):
            return "FAILURE: error not naming the option", stderr.strip()[-300:]
        return CLEAR_ERROR, stderr.strip().splitlines()[-1][:200] if stderr.strip() else ""
    if code == 0:
        if never_valid:
            return "FAILURE: nonsense accepted", f"exit 0 for {option} {value!r}"
        return CORRECT, "exit 0"
    return "FAILURE: exit code", f"exit {code}: {stderr.strip()[-300:]}"


def run_cases(cases, out, run_captured):
    """[(command, option, value, outcome, detail)] and the seconds taken."""
    started = time.perf_counter()
    outcomes = []
    for command, option, value, argv, never_valid in cases:
        shutil.rmtree(out, ignore_errors=True)
        code, stdout, stderr, exception = None, "", "", None
        try:
            code, stdout, stderr = run_captured(argv)
        except BaseException as error:       # SystemExit too: the command line must return a code
            exception = error
        outcome, detail = classify(code, stdout, stderr, command, option, value, never_valid, out, exception)
        if outcome == CORRECT:
            from TMEMonitorLib.output_folder import read_manifest
            manifest = read_manifest(out) if command not in ("info",) else {"files": {}}
            if manifest is None or any(not os.path.isfile(os.path.join(out, f)) for f in manifest["files"]):
                outcome, detail = "FAILURE: partial output", "exit 0 without a complete manifest"
        outcomes.append((command, option, value, outcome, detail))
    shutil.rmtree(out, ignore_errors=True)
    return outcomes, time.perf_counter() - started


def summary(outcomes, seconds):
    from collections import Counter
    counts = Counter(o[3] for o in outcomes)
    commands = Counter(o[0] for o in outcomes)
    lines = [f"CLI fuzz: {len(outcomes)} cases over {len(commands)} sub-commands in {seconds:.1f} s"]
    lines += [f"  {name}: {count}" for name, count in sorted(counts.items())]
    lines += [f"  {command}: {count} cases" for command, count in sorted(commands.items())]
    return "\n".join(lines)
