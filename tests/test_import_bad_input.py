"""The importer on what a careless user or a damaged log gives it: a foreign or unsigned imported.json,
a byte that is not text, a compressed file under a plain name, a source named twice. Each is one
line naming the file (and line and byte where there is one) or a counted repair, and raw_dir and
everything beside it are left as they were."""
import gzip
import json
import os
import pathlib
import subprocess
import sys

import pytest

from errors import PipelineError
from preprocessing.raw_data import load_raw
from preprocessing.sources.importers import FORMATS, source_csv
from preprocessing.sources.importers.__main__ import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
TAOBAO_ROWS = [f"{user},{10 + user % 7},100,pv,{1511539200 + 3600 * user}" for user in range(1, 30)]
# one small source per format, each with a data row of its own that the test damages
SOURCES = {
    "taobao": ("ub.csv", "", "1,10,100,pv,1511539200"),
    "tmall": ("user_log_format1.csv", "user_id,item_id,cat_id,seller_id,brand_id,time_stamp,action_type",
              "1,10,100,7,70,511,0"),
    "jdata2017": ("JData_Action_201602.csv", "user_id,sku_id,time,model_id,type,cate,brand",
                  "266079.0,1,2016-02-01 10:00:00,,1,8,403"),
    "jdata2019": ("jdata_action.csv", "user_id,sku_id,action_time,module_id,type", "1,10,2018-02-01 08:00:00,5,1"),
    "retailrocket": ("events.csv", "timestamp,visitorid,event,itemid,transactionid", "1433221332117,257597,view,355908,"),
    "csv": ("log.csv", "uid,sku,ts,act", "1,2,2020-02-01,1"),
}
OWN_COLUMNS = "columns=user:uid,item:sku,time:ts,action:act"


def test_every_format_has_its_damaged_source_here():
    assert set(SOURCES) == set(FORMATS)


def _tree(folder):
    """Every path under folder with its bytes (None for a folder)."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def _import(fmt, *sources, raw_dir):
    extra = [OWN_COLUMNS] if fmt == "csv" else []
    main([fmt, *map(str, sources), f"raw_dir={raw_dir}", *extra])


def _source(folder, fmt, damage=None, rows=12):
    """The format's sample source in folder; damage(bytes of data row 6) -> the damaged row."""
    name, header, row = SOURCES[fmt]
    lines = ([header.encode()] if header else []) + [row.encode()] * rows
    if damage:
        lines[5] = damage(lines[5])
    path = folder / name
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize("fmt", sorted(SOURCES))
@pytest.mark.parametrize("head", ["all read to tell the encoding", "beyond the head read to tell the encoding"])
def test_a_byte_that_is_not_text_is_one_line_naming_file_line_and_byte(tmp_path, monkeypatch, fmt, head):
    if head.startswith("beyond"):
        monkeypatch.setattr(source_csv, "SNIFF_BYTES", 16)
    source = _source(tmp_path, fmt, damage=lambda row: row[:3] + b"\xff" + row[3:])
    offset = source.read_bytes().index(b"\xff")
    with pytest.raises(PipelineError) as caught:
        _import(fmt, source, raw_dir=tmp_path / "raw")
    message = str(caught.value)
    assert message.startswith(f"{source} line 6, byte {offset}: ") and "\n" not in message
    assert "UTF-8" in message and not (tmp_path / "raw").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [source.name]


def test_a_gzip_file_named_csv_is_said_to_be_gzip(tmp_path):
    source = tmp_path / "ub.csv"
    source.write_bytes(gzip.compress("\n".join(TAOBAO_ROWS).encode()))
    with pytest.raises(PipelineError, match=r"ub\.csv: is gzip-compressed, but its name does not end in \.gz; "
                                            r"rename it to ub\.csv\.gz"):
        _import("taobao", source, raw_dir=tmp_path / "raw")
    renamed = source.rename(tmp_path / "ub.csv.gz")
    _import("taobao", renamed, raw_dir=tmp_path / "raw")
    assert len(load_raw(tmp_path / "raw").actions) == len(TAOBAO_ROWS)


@pytest.mark.parametrize("name, data, said", [
    ("ub.csv.gz", b"1,10,100,pv,1511539200\n", "named .gz but is not gzip data"),
    ("ub.csv", b"PK\x03\x04" + bytes(40), "is zip-compressed; decompress it first"),
    ("ub.csv", bytes(range(256)) * 4, "line 2, byte 128: not UTF-8 text"),
], ids=["not gzip", "zip", "binary"])
def test_other_compressed_or_binary_sources_are_one_line(tmp_path, name, data, said):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(PipelineError, match=said) as caught:
        _import("taobao", tmp_path / name, raw_dir=tmp_path / "raw")
    assert "\n" not in str(caught.value) and not (tmp_path / "raw").exists()


def test_a_source_named_twice_or_inside_a_folder_named_too_is_read_once_and_counted(tmp_path, capsys):
    folder = tmp_path / "logs"
    folder.mkdir()
    source = folder / "ub.csv"
    source.write_text("\n".join(TAOBAO_ROWS) + "\n")
    _import("taobao", folder, source, tmp_path / "logs" / ".." / "logs" / "ub.csv", raw_dir=tmp_path / "raw")
    assert len(load_raw(tmp_path / "raw").actions) == len(TAOBAO_ROWS)
    summary = capsys.readouterr().out
    assert "source files given more than once, read once: 2" in summary
    assert json.loads((tmp_path / "raw" / "imported.json").read_text())["sources"] == [str(source)]


# ---------------------------------------------------------------- the raw folder it replaces

def _users_folder(raw, marker):
    """A user's raw folder that looks like an import: tables, an actions.parquet/ folder of parts,
    and an imported.json this program did not sign."""
    (raw / "actions.parquet").mkdir(parents=True)
    (raw / "actions.parquet" / "part-0.parquet").write_bytes(b"my partitioned actions")
    (raw / "items.parquet").write_bytes(b"my items")
    if marker is not None:
        (raw / "imported.json").write_text(marker)


@pytest.mark.parametrize("marker", [
    None, "{}", "not json", json.dumps({"format": "taobao", "sources": ["ub.csv"], "summary": ["imported"]}),
    json.dumps({"signature": "purchase-prediction signed folder", "kind": "imported log", "token": "0" * 16,
                "files": None}),  # a folder still being built, copied
    json.dumps({"signature": "purchase-prediction signed folder", "kind": "generated demo set", "token": "0" * 16,
                "files": {}})])  # another kind's
def test_a_look_alike_raw_folder_with_an_unsigned_imported_json_is_left_byte_for_byte(tmp_path, marker):
    raw = tmp_path / "raw"
    _users_folder(raw, marker)
    before = _tree(tmp_path)
    source = tmp_path / "ub.csv"
    source.write_text("\n".join(TAOBAO_ROWS) + "\n")
    with pytest.raises(PipelineError, match=f"raw_dir={raw} holds .*did not write.*raw_dir=") as caught:
        _import("taobao", source, raw_dir=raw)
    assert "\n" not in str(caught.value)
    assert _tree(tmp_path) == {**before, "ub.csv": source.read_bytes()}


def test_an_import_sealed_with_a_copied_marker_does_not_vouch_for_other_tables(tmp_path):
    source = tmp_path / "ub.csv"
    source.write_text("\n".join(TAOBAO_ROWS) + "\n")
    _import("taobao", source, raw_dir=tmp_path / "genuine")
    raw = tmp_path / "raw"
    _users_folder(raw, (tmp_path / "genuine" / "imported.json").read_text())
    before = _tree(raw)
    with pytest.raises(PipelineError, match="did not write|changed since"):
        _import("taobao", source, raw_dir=raw)
    assert _tree(raw) == before


@pytest.mark.parametrize("change", ["a file added", "a table edited", "a table replaced by a folder"])
def test_an_earlier_import_changed_by_hand_is_not_replaced(tmp_path, change):
    source = tmp_path / "ub.csv"
    source.write_text("\n".join(TAOBAO_ROWS) + "\n")
    raw = tmp_path / "raw"
    _import("taobao", source, raw_dir=raw)
    if change == "a file added":
        (raw / "notes.txt").write_text("mine")
    elif change == "a table edited":
        with open(raw / "items.parquet", "r+b") as table:
            table.seek(10)
            table.write(b"X")
    else:
        (raw / "users.parquet").unlink()
        (raw / "users.parquet").mkdir()
        (raw / "users.parquet" / "part-0.parquet").write_bytes(b"mine")
    before = _tree(raw)
    with pytest.raises(PipelineError, match=f"raw_dir={raw} holds .*(did not write|changed since)"):
        _import("taobao", source, raw_dir=raw)
    assert _tree(raw) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw", "ub.csv"]


def test_a_file_the_importer_writes_into_its_folder_is_sealed_with_it(tmp_path, monkeypatch):
    from preprocessing.sources.importers import log_writer
    commit = log_writer.ImportedLog.commit

    def commit_with_a_proposal(log, *args):
        (log.staging / "proposed.json").write_text("{}")  # as a later step of the importer may write
        return commit(log, *args)

    monkeypatch.setattr(log_writer.ImportedLog, "commit", commit_with_a_proposal)
    source = tmp_path / "ub.csv"
    source.write_text("\n".join(TAOBAO_ROWS) + "\n")
    for _ in range(2):  # the second import replaces the first, proposal included
        _import("taobao", source, raw_dir=tmp_path / "raw")
    marker = json.loads((tmp_path / "raw" / "imported.json").read_text())
    assert sorted(marker["files"]) == ["actions.parquet", "items.parquet", "proposed.json", "users.parquet"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw", "ub.csv"]


def test_a_killed_import_leaves_a_marked_folder_that_the_next_one_clears_and_look_alikes_stay(tmp_path):
    source = tmp_path / "ub.csv"
    source.write_text("\n".join(TAOBAO_ROWS) + "\n")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    look_alikes = {f".raw.building-{dead.pid}": b"mine", f".raw.building-{dead.pid}-0123456789abcdef": b"mine too",
                   ".raw.import.abc": b"an old name"}
    for name, data in look_alikes.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "actions.parquet").write_bytes(data)
    killed = tmp_path / f".raw.building-{dead.pid}-fedcba9876543210"
    killed.mkdir()
    (killed / "imported.json").write_text(json.dumps({"signature": "purchase-prediction signed folder",
                                                      "kind": "imported log", "token": "fedcba9876543210",
                                                      "files": None}))
    (killed / "actions.parquet").write_bytes(b"half written")
    before = {name: _tree(tmp_path / name) for name in look_alikes}
    _import("taobao", source, raw_dir=tmp_path / "raw")
    assert not killed.exists()
    assert {name: _tree(tmp_path / name) for name in look_alikes} == before


def test_an_unwritable_place_for_raw_dir_is_one_line(tmp_path):
    source = tmp_path / "ub.csv"
    source.write_text("\n".join(TAOBAO_ROWS) + "\n")
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(["sh", str(ROOT / "scr" / "import_data.sh"), "taobao", str(source), "raw_dir=/proc/raw"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("error: raw_dir=/proc/raw: cannot write beside it in /proc")


# ---------------------------------------------------------------- the next classes: what a real log or a careless user gives

OWN_HEADER = "uid,sku,ts,act\n"
OWN_ROWS = "".join(f"{user},{100 + user % 5},2020-02-0{1 + user % 9} 10:00:00,{1 + user % 2}\n" for user in range(1, 40))
UNIX_SECONDS = "".join(f"{user},{100 + user % 5},{1580515200 + 3600 * user},1\n" for user in range(1, 40))


def _own(tmp_path, data, *settings, name="log.csv"):
    source = tmp_path / name
    source.write_bytes(data if isinstance(data, bytes) else data.encode())
    main(["csv", str(source), f"raw_dir={tmp_path / 'raw'}", OWN_COLUMNS, *settings])
    return load_raw(tmp_path / "raw").actions


@pytest.mark.parametrize("data", [
    "\ufeff" + OWN_HEADER + OWN_ROWS,  # a byte-order mark
    (OWN_HEADER + OWN_ROWS).replace("\n", "\r\n"),  # Windows line ends
    OWN_HEADER + OWN_ROWS + "\n\n",  # blank lines at the end
    OWN_HEADER + OWN_ROWS.replace("1,101,", '"1","101",', 1),  # quoted cells
], ids=["BOM", "CRLF", "blank lines", "quoted cells"])
def test_harmless_variants_of_a_csv_read_as_the_plain_file(tmp_path, data):
    (tmp_path / "plain").mkdir()
    plain = _own(tmp_path / "plain", OWN_HEADER + OWN_ROWS)
    variant = _own(tmp_path, data, name="my log.csv")  # a path with a space, too
    assert variant.equals(plain)


@pytest.mark.parametrize("data, settings, said", [
    (OWN_HEADER, [], "no data rows"),
    (OWN_HEADER + OWN_ROWS + OWN_HEADER + OWN_ROWS, [], "line 41: 1 values of column uid that are not integers"),
    ("uid , sku , ts , act\n" + OWN_ROWS, [], "the header does not name a column exactly .*spaces around"),
    ((OWN_HEADER + OWN_ROWS).replace(",", ";"), [], "missing column.*found uid;sku;ts;act"),
    (OWN_HEADER + UNIX_SECONDS.replace(",1\n", "000,1\n"), ["time_format=unix_s"],
     "line 2: 39 values of column ts that look like Unix milliseconds \\(use time_format=unix_ms\\)"),
    (OWN_HEADER + UNIX_SECONDS, ["time_format=unix_ms"],
     "line 2: 39 values of column ts that look like Unix seconds \\(use time_format=unix_s\\)"),
    (OWN_HEADER + OWN_ROWS.replace("2020-", "2999-"), [], "beyond the years 1678-2261"),
    (OWN_HEADER + ",101,2020-02-01 10:00:00,1\n" + OWN_ROWS, [], "line 2: 1 empty uid cells"),
    (OWN_HEADER + OWN_ROWS, ["chunk_mb=1e12"], "chunk_mb=1000000000000.0: expected a positive number of MiB up to"),
    ((OWN_HEADER + OWN_ROWS).encode("utf-16"), [], "line 1, byte 0: not UTF-8 text"),
], ids=["header only", "header repeated", "spaces in header", "semicolons", "ms as s", "s as ms", "year 2999",
        "empty id", "chunk_mb huge", "UTF-16"])
def test_the_next_classes_of_bad_csv_are_one_line(tmp_path, data, settings, said):
    with pytest.raises(PipelineError, match=said) as caught:
        _own(tmp_path, data, *settings)
    assert "\n" not in str(caught.value) and not (tmp_path / "raw").exists()


def test_a_taobao_log_in_milliseconds_says_why_nothing_is_left(tmp_path):
    source = tmp_path / "ub.csv"
    source.write_text("".join(f"{row.rsplit(',', 1)[0]},{int(row.rsplit(',', 1)[1]) * 1000}\n" for row in TAOBAO_ROWS))
    with pytest.raises(PipelineError, match=r"no actions left .*rows outside 2017-11-25\.\.2017-12-03 \(China time\) "
                                            r"dropped: 29\)"):
        _import("taobao", source, raw_dir=tmp_path / "raw")
