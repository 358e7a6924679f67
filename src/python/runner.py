"""The tests of a piece of generated code, run inside Pyodide (src/python/python.worker.ts).

run_tests(code, generated, asserts) -> JSON report:
  program  = code + generated + "\n" + asserts, where trailing lines of `generated` that keep the
             program from parsing are dropped first (a body cut off by the token limit usually
             ends mid-line); the report says how many
  tests    = every top-level `assert` statement (in order, each its own test; other top-level
             statements run as they come, a failing one ends the run with its traceback), then
             every doctest example in the docstrings of what the program defines
Each test: {"name", "line", "ok", "detail"}; detail is the traceback or the expected/got text.
"""

import ast
import doctest
import json
import linecache
import sys
import traceback
import types

FILENAME = "main.py"


def _parses(source):
    try:
        ast.parse(source, FILENAME)
        return None
    except SyntaxError as e:
        return e


def _join(code, generated, asserts):
    program = code + generated
    if asserts.strip():
        program += ("" if program.endswith("\n") or not program else "\n") + asserts
    return program if program.endswith("\n") else program + "\n"


def build_program(code, generated, asserts):
    """(program, lines dropped from the end of `generated`, SyntaxError or None)."""
    lines = generated.split("\n")
    for dropped in range(len(lines)):
        program = _join(code, "\n".join(lines[: len(lines) - dropped]), asserts)
        if _parses(program) is None:
            return program, dropped, None
    program = _join(code, generated, asserts)
    return program, 0, _parses(program)


def _user_code(filename):
    return filename == FILENAME or filename.startswith("<doctest ")


def _short_traceback(exc):
    """The traceback of `exc` from the first frame of user code (the runner's and doctest's frames left out)."""
    tb = exc.__traceback__
    while tb is not None and not _user_code(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


class _Collector(doctest.DocTestRunner):
    """Records every doctest example as its own test instead of printing a report."""

    def __init__(self):
        super().__init__(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        self.results = []

    def _add(self, test, example, ok, detail):
        line = (test.lineno or 0) + example.lineno + 1
        self.results.append({
            "name": f"{test.name.split('.', 1)[-1]}: >>> {example.source.strip()}",
            "line": line,
            "ok": ok,
            "detail": detail,
        })

    def report_start(self, out, test, example):
        pass

    def report_success(self, out, test, example, got):
        self._add(test, example, True, "")

    def report_failure(self, out, test, example, got):
        self._add(test, example, False, f"Expected:\n{example.want or '(nothing)\n'}Got:\n{got or '(nothing)\n'}")

    def report_unexpected_exception(self, out, test, example, exc_info):
        detail = _short_traceback(exc_info[1])
        self._add(test, example, False, detail)


def run_tests(code, generated="", asserts=""):
    program, dropped, error = build_program(code, generated, asserts)
    report = {"program": program, "droppedLines": dropped, "tests": [], "error": None}
    if error is not None:
        report["error"] = "".join(traceback.format_exception_only(type(error), error))
        return json.dumps(report)
    tree = ast.parse(program, FILENAME)
    # source lines for tracebacks and for doctest's line numbers (there is no file on disk)
    linecache.cache[FILENAME] = (len(program), None, program.splitlines(True), FILENAME)
    module = types.ModuleType("main")
    module.__file__ = FILENAME
    sys.modules["main"] = module
    scope = module.__dict__
    for node in tree.body:
        chunk = compile(ast.Module(body=[node], type_ignores=[]), FILENAME, "exec")
        if isinstance(node, ast.Assert):
            name = ast.get_source_segment(program, node) or f"assert on line {node.lineno}"
            try:
                exec(chunk, scope)
                report["tests"].append({"name": name, "line": node.lineno, "ok": True, "detail": ""})
            except BaseException as e:  # noqa: BLE001 - any failure of the user's assert is a result
                report["tests"].append({"name": name, "line": node.lineno, "ok": False, "detail": _short_traceback(e)})
            continue
        try:
            exec(chunk, scope)
        except BaseException as e:  # noqa: BLE001
            report["error"] = _short_traceback(e)
            return json.dumps(report)
    collector = _Collector()
    finder = doctest.DocTestFinder(exclude_empty=True)
    for test in sorted(finder.find(module, "main", globs=scope), key=lambda t: t.lineno or 0):
        test.filename = FILENAME
        collector.run(test, out=lambda _s: None, clear_globs=False)
    report["tests"].extend(collector.results)
    return json.dumps(report)
