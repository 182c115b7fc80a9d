"""Settings of one run: the defaults in config.py, overridden by `key=value` arguments.

Values are parsed as Python literals (`0.004`, `[16,17]`, `True`, `DIN`); a bare word is taken as
a string. An override must name a key of config.py and keep that key's type (an int is accepted
where a float is expected).
"""
import ast
import sys
import types

import config
from errors import PipelineError


class ConfigError(PipelineError):
    """A bad setting; its message is one line meant for the user."""


def defaults():
    """The public values of config.py, by name."""
    return {k: v for k, v in vars(config).items()
            if not k.startswith("_") and not isinstance(v, (types.ModuleType, types.FunctionType))}


def _parse_value(key, text, default):
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text
    expected = type(default)
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if expected is list and isinstance(value, tuple):
        value = list(value)
    if type(value) is not expected:
        raise ConfigError(f"setting {key}={text!r}: expected {expected.__name__} like {default!r}")
    if expected is list and default and value:
        inner = type(default[0])
        value = [float(v) if inner is float and isinstance(v, int) else v for v in value]
        if any(type(v) is not inner for v in value):
            raise ConfigError(f"setting {key}={text!r}: expected a list of {inner.__name__} like {default!r}")
    return value


def load(argv=None, **overrides):
    """Settings as a namespace: config.py's defaults, then `key=value` strings, then keyword values."""
    values = defaults()
    for arg in (sys.argv[1:] if argv is None else argv):
        key, sep, text = arg.partition("=")
        if not sep:
            raise ConfigError(f"argument {arg!r}: expected key=value")
        if key not in values:
            raise ConfigError(f"unknown setting {key!r}; valid settings: {', '.join(sorted(values))}")
        values[key] = _parse_value(key, text, values[key])
    for key, value in overrides.items():
        if key not in values:
            raise ConfigError(f"unknown setting {key!r}; valid settings: {', '.join(sorted(values))}")
        values[key] = value
    return types.SimpleNamespace(**values)


def changed(cfg):
    """The settings of cfg that differ from config.py's defaults."""
    default = defaults()
    return {k: v for k, v in vars(cfg).items() if default.get(k) != v}
