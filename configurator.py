"""Settings of one run: the defaults in config.py, then the window settings an import proposed for
raw_dir (preprocessing/sources/import_proposal.py), then preset files, then `key=value` arguments.

Values are parsed as Python literals (`0.004`, `[16,17]`, `True`, `DIN`); a bare word is taken as
a string. An override must name a key of config.py and keep that key's type (an int is accepted
where a float is expected).

`config=configs/demo.py` names a preset file: plain `key = value` assignments of config.py keys,
checked like command-line values. Preset files are applied first, in command-line order, then the
other `key=value` arguments, so `config=configs/demo.py max_epochs=5` keeps max_epochs=5. A setting
given by either wins over the import's proposal.
"""
import ast
import datetime
import math
import os
import pathlib
import re
import sys
import types

import config
from errors import PipelineError
from models import model_spec
from preprocessing.sources import import_proposal

PRESET = "config"  # the setting that names preset files
AUTO = "auto"  # a setting sized from the data (training.loop.schedule)
SEED_LIMIT = 2**32  # numpy's global seed (keras.utils.set_random_seed) must be below this
MAX_SEQUENCE = 10_000  # max_len beyond this gives [samples, max_len] arrays no machine holds for a real log
STUDY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._=-]*")  # a study names its report folder
MAX_SIZE = 16_384  # embedding and layer widths beyond this exhaust memory before the first step
MAX_EXPERTS = 64  # experts (or extraction levels) of one multi-task model; each is a whole tower


class ConfigError(PipelineError):
    """A bad setting; its message is one line meant for the user."""


class Settings(types.SimpleNamespace):
    """The settings of a run as attributes. Two slots are not settings (vars() leaves them out):
    `model_spec`, the model the settings name, resolved (models/model_spec.py), and `from_import`:
    None, or (file, {setting: value taken from the import's proposal}, {setting: value given instead
    of the proposal's})."""
    __slots__ = ("from_import", "model_spec")


def defaults():
    """The public values of config.py, by name."""
    return {k: v for k, v in vars(config).items()
            if not k.startswith("_") and not isinstance(v, (types.ModuleType, types.FunctionType))}


def _check_known(key, values, where=""):
    if key not in values:
        raise ConfigError(f"{where}unknown setting {key!r}; valid settings: {', '.join(sorted(values))}")


def _typed(key, value, default, shown, where=""):
    """value with the type of default (int -> float, tuple -> list); ConfigError otherwise."""
    expected = type(default)
    if default == AUTO and isinstance(value, int) and not isinstance(value, bool):
        return value  # a setting sized automatically takes a number in its place
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if expected is list and isinstance(value, tuple):
        value = list(value)
    if type(value) is not expected:
        wanted = f"{AUTO!r} or a whole number" if default == AUTO else f"{expected.__name__} like {default!r}"
        raise ConfigError(f"{where}setting {key}={shown!r}: expected {wanted}")
    if expected is list and default and value:
        inner = type(default[0])
        value = [float(v) if inner is float and isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        if any(type(v) is not inner for v in value):
            raise ConfigError(f"{where}setting {key}={shown!r}: expected a list of {inner.__name__} like {default!r}")
    return value


def _parse_value(key, text, default):
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text
    if isinstance(default, str) and default != AUTO and not isinstance(value, str):
        value = text  # a text setting takes any text, e.g. raw_dir=2020
    return _typed(key, value, default, text)


def _split(arg):
    key, sep, text = arg.partition("=")
    if not sep:
        raise ConfigError(f"argument {arg!r}: expected key=value")
    return key, text


def parse_arguments(args, defaults):
    """{key: value} of `key=value` strings, each naming a key of defaults, the value parsed as a Python
    literal (a bare word as itself) and given its default's type; ConfigError naming the first bad
    one. config.py's settings and the importers' own are parsed by this."""
    given = {}
    for arg in args:
        key, text = _split(arg)
        _check_known(key, defaults)
        given[key] = _parse_value(key, text, defaults[key])
    return given


def preset_values(path, values):
    """The settings a preset file assigns, by name, typed like values (config.py's defaults)."""
    try:
        source = pathlib.Path(path).read_text()
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or type(err).__name__
        raise ConfigError(f"setting config={path!r}: cannot read the settings file ({reason})") from None
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as err:
        raise ConfigError(f"{path} line {err.lineno}: not a settings file ({err.msg})") from None
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue  # the file's docstring
        where = f"{path} line {node.lineno}: "
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise ConfigError(f"{where}expected only `key = value` assignments of config.py settings")
        key = node.targets[0].id
        _check_known(key, values, where)
        if key == PRESET:
            raise ConfigError(f"{where}a settings file cannot name another one (config=...)")
        shown = ast.get_source_segment(source, node.value)
        try:
            value = ast.literal_eval(node.value)
        except ValueError:
            raise ConfigError(f"{where}setting {key}={shown!r}: expected a literal (number, string, bool or list) "
                              f"like {values[key]!r}") from None
        found[key] = _typed(key, value, values[key], shown, where)
    return found


def _whole(low, high=None):
    """A rule for whole numbers from low (to high)."""
    wanted = "a positive whole number" if low == 1 else f"a whole number from {low}"
    if high is not None:
        wanted += f" up to {high:,}"
    return lambda v: None if low <= v and (high is None or v <= high) else wanted


def _number(low, high=math.inf, low_open=False, high_open=False, example=None):
    """A rule for finite numbers in an interval, its ends open or closed."""
    wanted = (f"a number {'above' if low_open else 'from'} {low:g}" + ("" if high == math.inf else
              f" {'to below' if high_open else 'to'} {high:g}") + (f", like {example:g}" if example is not None else ""))

    def rule(v):
        inside = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
        return None if math.isfinite(v) and inside else wanted
    return rule


def _auto_or_whole(low):
    whole = _whole(low)

    def rule(v):
        if v == AUTO:
            return None
        problem = whole(v) if isinstance(v, int) else "a whole number"
        return problem and f"{AUTO!r} or {problem}"
    return rule


def _one_of(*options):
    return lambda v: None if v in options else f"one of {', '.join(options)}"


def _sizes(v):
    return None if v and all(1 <= u <= MAX_SIZE for u in v) else \
        f"a non-empty list of positive sizes up to {MAX_SIZE:,}"


def _seeds(v):
    return None if v and all(0 <= s < SEED_LIMIT for s in v) else \
        f"a non-empty list of whole numbers from 0 to {SEED_LIMIT - 1:,}"


def _date(v):
    try:
        datetime.date.fromisoformat(v)
    except ValueError:
        return "a date like 2020-02-01"
    return None


def _text(v):
    return None if v.strip() else "a non-empty value"


def _study(v):
    return None if v == "" or STUDY_NAME.fullmatch(v) else \
        "empty or a name of letters, digits, '.', '_', '=' or '-' starting with a letter or digit"


def _anything(_):
    return None


# Every setting of config.py and what it may hold besides its type; settings.check and make_demo_data
# check what depends on several settings together.
RULES = {
    "raw_dir": _text, "processed_dir": _text, "results_dir": _text, "allow_pickle": _anything, "config": _anything,
    "demo_users": _whole(1), "demo_items": _whole(1), "demo_categories": _whole(1),
    "demo_scale": _number(0, low_open=True, example=1.0), "demo_start": _date, "demo_end": _date,
    "demo_seed": _whole(0, SEED_LIMIT - 1), "like": _anything,
    "num_windows": _whole(1), "window_days": _whole(1), "window_stride_days": _whole(1),
    "use_oldest_window": _anything, "split_by": _one_of("user", "random"), "max_len": _whole(1, MAX_SEQUENCE),
    "use_item2vec": _anything, "w2v_window": _whole(1), "w2v_epochs": _whole(1), "w2v_min_count": _whole(1),
    "w2v_sample": _number(0, 1, high_open=True, example=1e-4), "embed_dim": _whole(1, MAX_SIZE), "embed_l2": _number(0),
    "split_seed": _whole(0, SEED_LIMIT - 1), "w2v_max_tokens": _whole(1), "open_candidates": _whole(0),
    "model": _text, "ctr_model": _text, "cvr_model": _text, "ctr_sees_action_type": _anything,
    "mlp_units": _sizes, "mlp_activation": _text, "mlp_dropout": _number(0, 1, high_open=True), "wide": _anything,
    "attention_units": _sizes, "attention_softmax": _anything, "dien_gru_units": _whole(1, MAX_SIZE),
    "dien_augru_units": _whole(1, MAX_SIZE), "dien_aux_weight": _number(0), "dien_aux_units": _sizes,
    "gru_units": _whole(1, MAX_SIZE), "expert_model": _text, "num_experts": _whole(1, MAX_EXPERTS),
    "ple_task_experts": _whole(1, MAX_EXPERTS), "ple_shared_experts": _whole(1, MAX_EXPERTS),
    "ple_levels": _whole(1, MAX_EXPERTS), "task_tower_units": _sizes, "escm2_variant": _one_of("ips", "dr"),
    "learning_rate": _number(0, low_open=True, example=0.008), "lr_decay": _number(0, 1, low_open=True),
    "clip_norm": _number(0, low_open=True), "sparse_update_above": _whole(0), "batch_size": _auto_or_whole(1),
    "eval_batch_size": _whole(1), "eval_every": _auto_or_whole(1), "patience": _whole(0), "max_epochs": _whole(1),
    "min_updates": _whole(1),
    "label_smoothing": _number(0, 1, high_open=True), "ctr_weight": _number(0), "cvr_weight": _number(0),
    "seeds": _seeds, "jit_compile": _anything, "deterministic": _anything,
    "distribute": _one_of("none", "mirrored", "multi_worker"), "resume": _anything, "study": _study,
    "aitm_calibration_weight": _number(0), "escm2_weight": _number(0),
    "propensity_floor": _number(0, 1, low_open=True),
}


def _folder_problem(path):
    """Why path cannot be made or written as a folder, or None."""
    path = pathlib.Path(path)
    existing = next(p for p in (path, *path.parents) if os.path.lexists(p) or p == p.parent)
    if not existing.is_dir():
        return f"{existing} is not a folder" if existing == path else f"{existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


def _check_folders(values):
    """The output folders: makeable and writable, and processed_dir a folder of its own, since
    building replaces it as a whole."""
    processed = pathlib.Path(values["processed_dir"]).resolve()
    for key in ("raw_dir", "results_dir"):
        other = pathlib.Path(values[key]).resolve()
        if other == processed or processed in other.parents:
            raise ConfigError(f"setting processed_dir={values['processed_dir']!r}: holds {key}={values[key]!r}; "
                              "processed_dir is replaced as a whole, so it must be a folder of its own")
    if processed == pathlib.Path.cwd() or processed in pathlib.Path.cwd().parents:
        raise ConfigError(f"setting processed_dir={values['processed_dir']!r}: is the current folder or above it; "
                          "processed_dir is replaced as a whole, so it must be a folder of its own")
    for key in ("processed_dir", "results_dir"):
        problem = _folder_problem(values[key])
        if problem:
            raise ConfigError(f"setting {key}={values[key]!r}: cannot be written there ({problem})")


def validate(values):
    """Raises ConfigError naming the first setting of the wrong type or out of its range."""
    default = defaults()
    for key, value in values.items():
        _typed(key, value, default[key], value)
        wanted = RULES.get(key, _anything)(value)
        if wanted:
            raise ConfigError(f"setting {key}={value!r}: expected {wanted}")
    _check_folders(values)


def load(argv=None, **overrides):
    """Settings as a namespace: config.py's defaults, then the window settings proposed by the import
    in raw_dir for those not given, then the preset files named by `config=...`, then the other
    `key=value` strings, then keyword values; with the model they name resolved (cfg.model_spec)."""
    default = defaults()
    arguments = sys.argv[1:] if argv is None else argv
    pairs = [_split(arg) for arg in arguments]
    for key, _ in pairs:
        _check_known(key, default)
    presets = [text for key, text in pairs if key == PRESET]
    if overrides.get(PRESET):
        presets.append(overrides.pop(PRESET))
    given = {}
    for path in presets:
        given.update(preset_values(path, default))
    given.update(parse_arguments([arg for arg, (key, _) in zip(arguments, pairs) if key != PRESET], default))
    for key, value in overrides.items():
        _check_known(key, default)
        given[key] = _typed(key, value, default[key], value)
    values = {**default, **given, PRESET: ",".join(presets)}
    proposal = import_proposal.read(values["raw_dir"]) if _text(values["raw_dir"]) is None else {}
    taken = {key: value for key, value in proposal.items() if key not in given}
    values.update(taken)
    validate(values)
    settings = Settings(**values)
    settings.model_spec = model_spec.resolve(settings)  # an unknown model is refused here, before any data is read
    settings.from_import = (str(pathlib.Path(values["raw_dir"]) / import_proposal.FILE), taken,
                            {key: given[key] for key in proposal if key in given}) if proposal else None
    return settings


def from_import_line(cfg):
    """The line saying which settings came from raw_dir's import proposal, or None when it has none."""
    found = getattr(cfg, "from_import", None)
    return import_proposal.describe(*found) if found else None


def changed(cfg):
    """The settings of cfg that differ from config.py's defaults, and those given in place of an import's
    proposal (so that loading them again gives cfg whatever raw_dir proposes)."""
    default = defaults()
    found = getattr(cfg, "from_import", None)
    overridden = found[2] if found else {}
    return {k: v for k, v in vars(cfg).items() if default.get(k) != v or k in overridden}
