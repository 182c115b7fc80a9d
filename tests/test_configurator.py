import os

import pytest

import config
import configurator
from configurator import ConfigError
from errors import PipelineError
from preprocessing.pipeline import settings
from preprocessing.sources import import_proposal


def test_defaults_are_the_original_best_values():
    cfg = configurator.load([])
    assert (cfg.model, cfg.ctr_model, cfg.cvr_model) == ("ESSM", "DIEN", "GRU_DNN")
    assert (cfg.learning_rate, cfg.embed_dim, cfg.max_len, cfg.label_smoothing) == (0.008, 16, 100, 0.1)
    assert (cfg.eval_batch_size, cfg.patience) == (8192, 30)
    assert (cfg.batch_size, cfg.eval_every) == ("auto", "auto"), "sized to the training split: 2048 on the demo"
    assert (cfg.lr_decay, cfg.clip_norm, cfg.seeds, cfg.max_epochs) == (0.5, 3.0, [16], 100)
    assert (cfg.ctr_weight, cfg.cvr_weight) == (1.0, 0.0)


def test_overrides_parse_literals_lists_and_bare_words():
    cfg = configurator.load(["model=DIN", "learning_rate=0.004", "seeds=[16,17,18]", "max_len=50",
                             "use_item2vec=False", "mlp_units=[64, 32]"])
    assert cfg.model == "DIN" and cfg.learning_rate == 0.004 and cfg.seeds == [16, 17, 18]
    assert cfg.max_len == 50 and cfg.use_item2vec is False and cfg.mlp_units == [64, 32]
    assert config.max_len == 100, "an override must not change the defaults module"


def test_int_is_accepted_for_a_float_setting():
    assert configurator.load(["learning_rate=1"]).learning_rate == 1.0
    assert isinstance(configurator.load(["learning_rate=1"]).learning_rate, float)


@pytest.mark.parametrize("argument, expected", [
    ("no_such_key=1", "unknown setting 'no_such_key'; valid settings: aitm_calibration_weight, allow_pickle"),
    ("max_len=abc", "setting max_len='abc': expected int like 100"),
    ("max_len=1.5", "setting max_len='1.5': expected int"),
    ("seeds=16", "setting seeds='16': expected list"),
    ("seeds=[16,'a']", "expected a list of int"),
    ("use_item2vec=1", "setting use_item2vec='1': expected bool"),
    ("learning_rate", "argument 'learning_rate': expected key=value"),
])
def test_bad_overrides_name_the_setting_and_what_was_expected(argument, expected):
    with pytest.raises(ConfigError) as error:
        configurator.load([argument])
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_changed_lists_only_settings_that_differ():
    cfg = configurator.load(["model=DIN", "max_len=100"])
    assert configurator.changed(cfg) == {"model": "DIN"}


def _preset(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_preset_file_is_applied_before_the_other_arguments_in_command_line_order(tmp_path):
    first = _preset(tmp_path, "first.py", '"""A preset."""\nmax_epochs = 3  # why\neval_every = 25\nmodel = "DIN"\n')
    second = _preset(tmp_path, "second.py", "max_epochs = 7\nlearning_rate = 1\nmlp_units = [8, 4]\n")
    cfg = configurator.load([f"patience={9}", f"config={first}", f"config={second}", "eval_every=50"])
    assert (cfg.max_epochs, cfg.eval_every, cfg.patience, cfg.model) == (7, 50, 9, "DIN")
    assert cfg.learning_rate == 1.0 and isinstance(cfg.learning_rate, float) and cfg.mlp_units == [8, 4]
    assert cfg.config == f"{first},{second}"
    assert configurator.changed(cfg)["config"] == f"{first},{second}"


@pytest.fixture
def imported_raw(tmp_path):
    """A raw folder whose import proposed 2-day windows at a 1-day stride."""
    raw = tmp_path / "raw"
    raw.mkdir()
    import_proposal.write(raw, {"num_windows": 6, "window_days": 2, "window_stride_days": 1}, "2017-11-25",
                          "2017-12-03")
    return raw


def _windows(cfg):
    return cfg.num_windows, cfg.window_days, cfg.window_stride_days


def test_the_import_proposal_is_used_unless_given_on_the_command_line_or_in_a_preset(imported_raw, tmp_path):
    proposal = imported_raw / import_proposal.FILE
    cfg = configurator.load([f"raw_dir={imported_raw}"])
    assert _windows(cfg) == (6, 2, 1)
    assert configurator.from_import_line(cfg) == (
        f"settings from the import ({proposal}): num_windows=6 window_days=2 window_stride_days=1")
    preset = _preset(tmp_path, "preset.py", "num_windows = 8\n")
    cfg = configurator.load([f"config={preset}", f"raw_dir={imported_raw}", "window_days=5"])
    assert _windows(cfg) == (8, 5, 1)
    assert configurator.from_import_line(cfg) == (
        f"settings from the import ({proposal}): window_stride_days=1; given instead of its proposal: "
        "num_windows=8 window_days=5")
    assert _windows(configurator.load([f"raw_dir={imported_raw}"], num_windows=4)) == (4, 2, 1)
    assert _windows(configurator.load([f"raw_dir={tmp_path}"])) == (6, 5, 5), "a folder without a proposal"
    assert configurator.from_import_line(configurator.load([f"raw_dir={tmp_path}"])) is None


def test_changed_settings_give_back_the_same_windows_whatever_the_folder_proposes(imported_raw):
    """A run's changed settings (runs.csv, resuming, sweeps) hold the proposal's values and a given
    value equal to config.py's, so loading them again gives the run's windows."""
    cfg = configurator.load([f"raw_dir={imported_raw}", "window_days=5"])
    changed = configurator.changed(cfg)
    # num_windows=6 is config.py's too; window_days=5 is config.py's but replaces the proposal's 2
    assert {k: changed[k] for k in import_proposal.SETTINGS if k in changed} == {"window_days": 5,
                                                                                 "window_stride_days": 1}
    again = configurator.load([f"{k}={v}" for k, v in changed.items()])
    assert _windows(again) == _windows(cfg) and "from_import" not in vars(cfg)


@pytest.mark.parametrize("text", ["{", '{"settings": {"window_days": 0}}', '{"settings": {"max_len": 3}}',
                                  '{"settings": {"window_days": "2"}}', "[1]"])
def test_a_broken_proposal_file_is_a_one_line_error_naming_it(imported_raw, text):
    (imported_raw / import_proposal.FILE).write_text(text)
    with pytest.raises(PipelineError) as error:
        configurator.load([f"raw_dir={imported_raw}"])
    message = str(error.value)
    assert message.startswith(f"{imported_raw / import_proposal.FILE}: expected") and "\n" not in message


def test_demo_preset_holds_the_demo_training_settings():
    cfg = configurator.load(["config=configs/demo.py"])
    assert (cfg.max_epochs, cfg.eval_every, cfg.patience) == (3, 25, 4)


@pytest.mark.parametrize("text, expected", [
    ("max_epochs = 'x'\n", "line 1: setting max_epochs=\"'x'\": expected int like 100"),
    ("max_epochs = 3\nno_such = 1\n", "line 2: unknown setting 'no_such'"),
    ("import os\n", "line 1: expected only `key = value` assignments"),
    ("max_epochs = 2 + 1\n", "line 1: setting max_epochs='2 + 1': expected a literal"),
    ("a = b = 1\n", "line 1: expected only `key = value` assignments"),
    ("config = 'other.py'\n", "line 1: a settings file cannot name another one"),
    ("max_epochs = (\n", "line 1: not a settings file"),
])
def test_bad_preset_file_is_a_one_line_error_naming_file_and_line(tmp_path, text, expected):
    path = _preset(tmp_path, "bad.py", text)
    with pytest.raises(ConfigError) as error:
        configurator.load([f"config={path}"])
    assert str(error.value).startswith(path) and expected in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_preset_file_is_a_one_line_error(tmp_path):
    with pytest.raises(ConfigError, match=r"setting config='.*nothing.py': cannot read the settings file"):
        configurator.load([f"config={tmp_path / 'nothing.py'}"])


@pytest.mark.parametrize("argument, expected", [
    ("learning_rate=-1", "setting learning_rate=-1.0: expected a number above 0"),
    ("learning_rate=1e999", "setting learning_rate=inf: expected a number above 0"),
    ("label_smoothing=5", "setting label_smoothing=5.0: expected a number from 0 to below 1"),
    ("batch_size=0", "setting batch_size=0: expected 'auto' or a positive whole number"),
    ("batch_size=big", "setting batch_size='big': expected 'auto' or a whole number"),
    ("eval_every=0", "setting eval_every=0: expected 'auto' or a positive whole number"),
    ("min_updates=0", "setting min_updates=0: expected a positive whole number"),
    ("embed_l2=-1", "setting embed_l2=-1.0: expected a number from 0"),
    ("eval_batch_size=0", "setting eval_batch_size=0: expected a positive whole number"),
    ("split_seed=-1", "setting split_seed=-1: expected a whole number from 0 up to 4,294,967,295"),
    ("seeds=[16,18446744073709551616]", "setting seeds=[16, 18446744073709551616]: expected a non-empty list"),
    ("seeds=[]", "setting seeds=[]: expected a non-empty list"),
    ("max_len=1000000000", "setting max_len=1000000000: expected a positive whole number up to 10,000"),
    ("embed_dim=1000000", "setting embed_dim=1000000: expected a positive whole number up to 16,384"),
    ("mlp_units=[64,0]", "setting mlp_units=[64, 0]: expected a non-empty list of positive sizes"),
    ("mlp_dropout=1", "setting mlp_dropout=1.0: expected a number from 0 to below 1"),
    ("lr_decay=0", "setting lr_decay=0.0: expected a number above 0 to 1"),
    ("patience=-1", "setting patience=-1: expected a whole number from 0"),
    ("cvr_weight=-0.5", "setting cvr_weight=-0.5: expected a number from 0"),
    ("demo_start=2020-13-01", "setting demo_start='2020-13-01': expected a date like 2020-02-01"),
    ("split_by=items", "setting split_by='items': expected one of user, random"),
    ("raw_dir=", "setting raw_dir='': expected a non-empty value"),
])
def test_every_setting_is_checked_for_its_range(argument, expected):
    with pytest.raises(ConfigError) as error:
        configurator.load([argument])
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_every_setting_of_config_py_has_a_range_rule():
    assert set(configurator.RULES) == set(configurator.defaults())


def test_preset_and_keyword_values_are_checked_like_command_line_values(tmp_path):
    path = _preset(tmp_path, "bad.py", "batch_size = 0\n")
    with pytest.raises(ConfigError, match="setting batch_size=0: expected 'auto' or a positive whole number"):
        configurator.load([f"config={path}"])
    with pytest.raises(ConfigError, match="setting eval_every=0: expected 'auto' or a positive whole number"):
        configurator.load([], eval_every=0)
    with pytest.raises(ConfigError, match="setting max_len='50': expected int like 100"):
        configurator.load([], max_len="50")


def test_output_folders_must_be_makeable_and_writable(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("kept")
    with pytest.raises(ConfigError, match=f"setting results_dir='{afile}': cannot be written there .* not a folder"):
        configurator.load([f"results_dir={afile}"])
    with pytest.raises(ConfigError, match=f"setting processed_dir='{afile}/p': .*{afile} is a file, not a folder"):
        configurator.load([f"processed_dir={afile}/p"])
    configurator.load([f"results_dir={tmp_path}/new/results", f"processed_dir={tmp_path}/new/processed"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"] and afile.read_text() == "kept"


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_results_dir_in_a_read_only_folder_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ConfigError, match="is not writable"):
        configurator.load([f"results_dir={locked}/results"])


@pytest.mark.parametrize("processed, holds", [(".", "raw_dir"), ("..", "raw_dir"), ("data", "raw_dir"),
                                              ("out", "results_dir")])
def test_processed_dir_must_be_a_folder_of_its_own(tmp_path, monkeypatch, processed, holds):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as error:
        configurator.load([f"processed_dir={processed}", "raw_dir=data/raw", "results_dir=out/results/x"])
    assert str(error.value).startswith(f"setting processed_dir={processed!r}: holds {holds}=")


def test_processed_dir_may_not_be_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="setting processed_dir='.': is the current folder or above it"):
        configurator.load(["processed_dir=.", f"raw_dir={tmp_path.parent}/elsewhere", "results_dir=/tmp/r"])


@pytest.mark.parametrize("arguments, expected", [
    (["num_windows=3", "window_days=5", "window_stride_days=3"], "window 1 is purged"),
    (["num_windows=2"], "leave no training window"),
])
def test_combinations_that_give_no_sound_dataset_are_refused(arguments, expected):
    with pytest.raises(ConfigError, match=expected):
        settings.check(configurator.load(arguments))


@pytest.mark.parametrize("arguments, kind, towers, title", [
    (["model=DIN"], "tower", ("DIN",), "DIN"),
    (["model=ESMM", "ctr_model=DNN"], "multi-task", ("DNN", "GRU_DNN"), "ESSM(ctr=DNN, cvr=GRU_DNN)"),
    (["model=PLE", "expert_model=DIN"], "multi-task", ("DIN", "DIN"), "PLE(experts=DIN)"),
    (["model=GBDT", "ctr_model=NOT_USED"], "baseline", (), "GBDT"),
])
def test_the_model_is_resolved_once_when_the_settings_load(arguments, kind, towers, title):
    spec = configurator.load(arguments).model_spec
    assert (spec.kind, spec.towers, spec.title) == (kind, towers, title)
    assert spec.ctr_cvr == (towers if kind == "multi-task" else ("", ""))
    assert "model_spec" not in vars(configurator.load(arguments)) and "model_spec" not in configurator.changed(
        configurator.load(arguments)), "the resolved model is not a setting"


@pytest.mark.parametrize("argument", ["model=NO_SUCH_MODEL", "cvr_model=NO_SUCH_MODEL",
                                      "model=MMOE expert_model=GRU_FM"])
def test_an_unknown_model_is_refused_when_the_settings_load(argument):
    with pytest.raises(PipelineError, match="unknown model; valid: "):
        configurator.load(argument.split())


def test_a_text_setting_takes_text_that_looks_like_a_number():
    assert configurator.load(["study=2020"]).study == "2020"
    assert configurator.parse_arguments(["columns=1", "year=2015"], {"columns": "", "year": 2016}) == {
        "columns": "1", "year": 2015}
