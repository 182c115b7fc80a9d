"""The house's layout holds: library and benchmark code never imports the main_func.py command,
benchmarks run as modules without editing sys.path, and every module the scr/ scripts run exists."""
import ast
import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
LIBRARY = ("training", "preprocessing", "models", "layers", "bench")


def _sources():
    return [path for package in LIBRARY for path in sorted((ROOT / package).rglob("*.py"))]


def _imported(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_no_library_or_benchmark_module_imports_the_main_func_command():
    importing = [str(path.relative_to(ROOT)) for path in _sources() if "main_func" in set(_imported(path))]
    assert importing == []


def test_no_benchmark_edits_sys_path():
    editing = [str(path.relative_to(ROOT)) for path in sorted((ROOT / "bench").rglob("*.py"))
               if re.search(r"sys\.path\s*(\[[^]]*\]\s*)?(=|\.insert|\.append)", path.read_text())]
    assert editing == []


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "scr").glob("*.sh")))
def test_every_module_a_script_runs_exists(script):
    for module in re.findall(r"-m ([\w.]+)", (ROOT / "scr" / script).read_text()):
        if module.split(".")[0] in LIBRARY:
            assert importlib.util.find_spec(module) is not None, f"scr/{script}: python -m {module}"
