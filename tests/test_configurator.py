import pytest

import config
import configurator
from configurator import ConfigError


def test_defaults_are_the_original_best_values():
    cfg = configurator.load([])
    assert (cfg.model, cfg.ctr_model, cfg.cvr_model) == ("ESSM", "DIEN", "GRU_DNN")
    assert (cfg.learning_rate, cfg.embed_dim, cfg.max_len, cfg.label_smoothing) == (0.008, 16, 100, 0.1)
    assert (cfg.batch_size, cfg.eval_batch_size, cfg.eval_every, cfg.patience) == (2048, 8192, 100, 30)
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
    ("no_such_key=1", "unknown setting 'no_such_key'; valid settings: allow_pickle"),
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
