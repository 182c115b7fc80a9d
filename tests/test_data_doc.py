"""docs/data.md's table of refusals and repairs names a test for each row; every one must exist."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_test_named_in_docs_data_md_exists():
    named = set(re.findall(r"`(test_\w+)`", (ROOT / "docs" / "data.md").read_text()))
    defined = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        defined.update(re.findall(r"^def (test_\w+)\(", path.read_text(), flags=re.MULTILINE))
    assert len(named) > 30 and named <= defined, sorted(named - defined)
