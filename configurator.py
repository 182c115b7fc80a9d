"""Settings of one run: the defaults in config.py, then preset files, then `key=value` arguments.

Values are parsed as Python literals (`0.004`, `[16,17]`, `True`, `DIN`); a bare word is taken as
a string. An override must name a key of config.py and keep that key's type (an int is accepted
where a float is expected).

`config=configs/demo.py` names a preset file: plain `key = value` assignments of config.py keys,
checked like command-line values. Preset files are applied first, in command-line order, then the
other `key=value` arguments, so `config=configs/demo.py max_epochs=5` keeps max_epochs=5.
"""
import ast
import pathlib
import sys
import types

import config
from errors import PipelineError

PRESET = "config"  # the setting that names preset files


class ConfigError(PipelineError):
    """A bad setting; its message is one line meant for the user."""


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
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if expected is list and isinstance(value, tuple):
        value = list(value)
    if type(value) is not expected:
        raise ConfigError(f"{where}setting {key}={shown!r}: expected {expected.__name__} like {default!r}")
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
    return _typed(key, value, default, text)


def _split(arg):
    key, sep, text = arg.partition("=")
    if not sep:
        raise ConfigError(f"argument {arg!r}: expected key=value")
    return key, text


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


def load(argv=None, **overrides):
    """Settings as a namespace: config.py's defaults, then the preset files named by `config=...`,
    then the other `key=value` strings, then keyword values."""
    default = defaults()
    pairs = [_split(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    for key, _ in pairs:
        _check_known(key, default)
    presets = [text for key, text in pairs if key == PRESET]
    if overrides.get(PRESET):
        presets.append(overrides.pop(PRESET))
    values = dict(default)
    for path in presets:
        values.update(preset_values(path, default))
    values[PRESET] = ",".join(presets)
    for key, text in pairs:
        if key != PRESET:
            values[key] = _parse_value(key, text, default[key])
    for key, value in overrides.items():
        _check_known(key, default)
        values[key] = _typed(key, value, default[key], value)
    return types.SimpleNamespace(**values)


def changed(cfg):
    """The settings of cfg that differ from config.py's defaults."""
    default = defaults()
    return {k: v for k, v in vars(cfg).items() if default.get(k) != v}
