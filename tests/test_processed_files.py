"""A processed file cut short or damaged is a one-line error naming it and telling to rebuild."""
import json

import numpy as np
import pytest

from errors import PipelineError
from preprocessing import processed_data
from preprocessing.processed_data import load_meta, load_split


@pytest.fixture
def processed(tmp_path):
    folder = tmp_path / "processed"
    (folder / "train").mkdir(parents=True)
    for name in processed_data.ARRAYS:
        np.save(folder / "train" / f"{name}.npy", np.arange(4000, dtype=np.int32).reshape(1000, 4))
    (folder / "meta.json").write_text(json.dumps({"format_version": processed_data.FORMAT_VERSION}))
    return folder


DAMAGE = {
    "cut in the data": lambda data: data[:len(data) // 2],
    "cut in the header": lambda data: data[:40],
    "empty": lambda data: b"",
    "header overwritten": lambda data: b"\0" * 128 + data[128:],
}


@pytest.mark.parametrize("mmap", [True, False])
@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_array_names_the_file_and_says_rebuild(processed, damage, mmap):
    path = processed / "train" / "hist_item.npy"
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    with pytest.raises(PipelineError) as error:
        load_split(processed, "train", mmap=mmap)
    message = str(error.value)
    assert message.startswith(f"{path}: truncated or corrupt (") and "\n" not in message
    assert message.endswith("rebuild the processed data: sh scr/pre_processing.sh")


@pytest.mark.parametrize("content", [b'{"format_version": 1, "feat', b"\xff\xfe\x00binary", b"[1, 2]", b""])
def test_a_damaged_meta_json_names_the_file_and_says_rebuild(processed, content):
    (processed / "meta.json").write_bytes(content)
    with pytest.raises(PipelineError) as error:
        load_meta(processed)
    message = str(error.value)
    assert message.startswith(f"{processed / 'meta.json'}: ") and "\n" not in message
    assert message.endswith("rebuild the processed data: sh scr/pre_processing.sh")


def test_intact_files_load(processed):
    assert load_meta(processed) == {"format_version": processed_data.FORMAT_VERSION}
    assert load_split(processed, "train")["hist_item"].shape == (1000, 4)


@pytest.mark.parametrize("name", ["label_buy", "hist_row", "hist_item"])
def test_split_arrays_of_unequal_length_name_the_odd_one(processed, name):
    path = processed / "train" / f"{name}.npy"
    np.save(path, np.load(path)[:-1])
    with pytest.raises(PipelineError) as error:
        load_split(processed, "train")
    assert str(error.value).startswith(f"{path}: 999 rows, but ") and "sh scr/pre_processing.sh" in str(error.value)


def test_background_writes_give_the_same_file_and_raise_a_failed_write(tmp_path):
    array = np.arange(3 * 2**19, dtype=np.float32).reshape(-1, 3)  # 6 MiB: several write calls
    with processed_data.BackgroundWrites() as writes:
        writer = processed_data.NpyWriter(tmp_path / "a.npy", np.float32, array.shape, writes)
        for begin in range(0, len(array), 100_000):
            writer.write(array[begin:begin + 100_000])
        writer.close()
    writer.check_complete()
    np.save(tmp_path / "b.npy", array)
    assert (tmp_path / "a.npy").read_bytes() == (tmp_path / "b.npy").read_bytes()

    def failing():
        raise OSError("No space left on device")

    with pytest.raises(OSError, match="No space left"):
        with processed_data.BackgroundWrites() as writes:
            writes.submit(failing)
