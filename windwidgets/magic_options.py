"""The options of the magics: read from the settings dataclasses, parsed from a line and a
TOML body, with help lines and "did you mean" for typos.

The options of ``%%windtrain`` are the fields of :mod:`windwidgets.config` (their names,
kinds, defaults and descriptions, from :func:`~windwidgets.config.describe`): a field added
there is an option, with its help line, without touching this module. ``%%windsweep`` and
``%windforecast`` add a few of their own.
"""
from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass

from IPython.core.error import UsageError

from .config import RunConfig, describe, keyword_owners
from .errors import closest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 reads TOML bodies through tomli when it is there
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None

TRUE, FALSE, NONE = ("true", "yes", "on", "1"), ("false", "no", "off", "0"), "none"
BARE_NONE = re.compile(r'(?<![\w."\'-])none(?![\w"\'-])', re.IGNORECASE)  # none outside a word or quotes


KINDS = {"int": "INT", "float": "FLOAT", "bool": "[true|false]", "str": "TEXT",
         "columns": "COLUMNS", "numbers": "NUMBER,...", "dict": "KEY=VALUE,...", "any": "VALUE", "name": "NAME"}


# -- options ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    """One ``--name value`` option: how its text (or TOML value) becomes a Python value."""

    name: str  # the keyword, with underscores: hidden_size
    kind: str  # int | float | bool | str | columns | numbers | dict | any | name
    default: object = None
    help: str = ""
    optional: bool = False  # "none" gives None
    choices: tuple | None = None  # the values it takes one of, shown in the help

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def from_text(self, text: str):
        """The value of ``--name text``."""
        if self.optional and text.lower() == NONE:
            return None
        kind = self.kind
        try:
            if kind == "int":
                return int(text)
            if kind == "float":
                return float(text)
            if kind == "numbers":  # 0.1,0.5,0.9 or [0.1, 0.5, 0.9]
                return [float(part) for part in text.strip().strip("[]()").split(",")]
        except ValueError:
            raise UsageError(f"{self.flag} takes {_article(kind)}, not {text!r}") from None
        if kind == "bool":
            return _boolean(text, self.flag)
        if kind == "columns":
            names = [part.strip() for part in text.split(",") if part.strip()]
            return names if "," in text else text.strip()
        if kind == "dict" and self.name == "bounds":  # an empty side is no limit: power=[0,]
            return _one_sided(_pairs(re.sub(r",\s*\]", ",none]", re.sub(r"\[\s*,", "[none,", text)), self.flag))
        if kind == "dict":
            return _pairs(text, self.flag)
        if kind == "any":
            return _literal(text)
        return text

    def from_toml(self, value):
        """The value of ``name = value`` in a cell body; TOML already typed it."""
        if isinstance(value, str):
            return self.from_text(value)
        if self.name == "bounds" and isinstance(value, dict):
            return _one_sided(value)
        kind, ok = self.kind, False
        if kind == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind == "float":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            value = float(value) if ok else value
        elif kind == "bool":
            ok = isinstance(value, bool)
        elif kind == "columns":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        elif kind == "numbers":
            ok = isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        elif kind == "dict":
            ok = isinstance(value, dict)
        elif kind == "any":
            ok = not isinstance(value, (list, dict))
        if not ok:
            raise UsageError(f"`{self.name}` in the cell body is {value!r}; it takes "
                             f"{_article(kind)}, e.g. {self.name} = {_toml(self.default, kind)}")
        return value

    def usage(self) -> str:
        shown = self.default is not None or self.optional
        default = f" (default: {_show(self.default)})" if shown else ""
        shape = "|".join(_show(c) for c in self.choices if c is not True) if self.choices else KINDS[self.kind]
        return f"  {self.flag} {shape}".ljust(31) + f" {self.help}{default}"


def config_options() -> dict[str, Option]:
    """Every keyword of ``ww.train``, as an option, in the order of the dataclass fields."""
    # an option of any kind reads "none" as None, which the settings' own checks then judge
    return {name: Option(name, s.kind, s.default, s.help, s.optional or s.kind == "any", s.choices)
            for name, s in describe().items()}


TRAIN_EXTRA = {
    "data": Option("data", "name", None, "a notebook variable (DataFrame, Series, ndarray) "
                   "or the path of a CSV or Parquet file; required"),
    "out": Option("out", "name", "run", "the notebook variable that receives the Run"),
}
RAY_TRAIN = {  # ww.train's keywords for Ray; not settings of the fit itself
    "workers": Option("workers", "int", None, "train data-parallel on this many Ray workers; none: here",
                      optional=True),
    "address": Option("address", "str", None, "the Ray cluster of --workers (auto, ray://head:10001); "
                      "none: Ray on this machine", optional=True),
}
SWEEP_EXTRA = {
    "data": TRAIN_EXTRA["data"],
    "out": Option("out", "name", "sweep", "the notebook variable that receives the Sweep (its .best is a Run)"),
    "trials": Option("trials", "int", None, "how many trials draw the space at random; none: every "
                     "combination of the lists once", optional=True),
    "metric": Option("metric", "str", "auto", "what picks the best trial: auto (val_forecast where forecasts "
                     "pick each fit's epoch, else val_loss), val_forecast, val_loss or train_loss"),
    "address": Option("address", "str", None, "a Ray cluster (auto, ray://head:10001); none: Ray on "
                      "this machine, on loopback", optional=True),
    "num_cpus": Option("num_cpus", "int", None, "CPUs for a local Ray, one trial each at a time; none: "
                       "all", optional=True),
    "concurrent_trials": Option("concurrent_trials", "int", None, "at most this many trials at a time; "
                                "none: one per CPU", optional=True),
    "keep_ray": Option("keep_ray", "bool", False, "leave the Ray this sweep started running for the next"),
}
FORECAST_OPTIONS = {
    "steps": Option("steps", "int", None, "how many steps to forecast; required"),
    "future": Option("future", "name", None,
                     "a DataFrame variable with the known-future covariates of the forecast rows"),
    "context": Option("context", "name", None,
                      "a DataFrame variable: a new series to forecast on from its end"),
    "interval": Option("interval", "float", None, "coverage of a prediction interval, e.g. 0.9",
                       optional=True),
    "start": Option("start", "str", None, "forecast from this label or position of the data "
                    "(to compare with what happened); default: after the last row"),
    "series": Option("series", "str", None, "a panel's series id (as its id column writes it); "
                     "default: every series, and the first one's plot"),
    "plot": Option("plot", "bool", False, "show the forecast as a figure"),
    "out": Option("out", "name", "forecast", "the notebook variable that receives the DataFrame"),
}


def parse_line(line: str, options: dict[str, Option], magic: str) -> tuple[dict, list]:
    """``--name value`` pairs (``--name=value`` too; a bare ``--flag`` for booleans, or
    ``--no-flag``) into ``{name: value}``, and the positional words left over."""
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise UsageError(f"%{magic}: cannot read the line ({error}); check the quotes") from None
    values, positional, i = {}, [], 0
    while i < len(words):
        word = words[i]
        i += 1
        if not word.startswith("--") or word == "--":
            positional.append(word)
            continue
        name, has_value, text = word[2:].partition("=")
        key = name.replace("-", "_")
        negate = (key not in options and key.startswith("no_")
                  and getattr(options.get(key[3:]), "kind", "") == "bool")
        key = key[3:] if negate else key
        if key not in options:
            raise UsageError(f"%{magic}: unknown option --{name}{_nearest(name, options, '--')}; "
                             f"%{magic}? lists them all")
        option = options[key]
        if key in values:
            raise UsageError(f"%{magic}: {option.flag} is given twice; keep one")
        if negate:
            value = False
        elif has_value:
            value = option.from_text(text)
        elif option.kind == "bool":
            takes_next = i < len(words) and not words[i].startswith("--")
            value = _boolean(words[i], option.flag) if takes_next else True
            i += takes_next
        elif i < len(words) and not words[i].startswith("--"):
            value = option.from_text(words[i])
            i += 1
        else:
            example = _show(option.default) if option.default is not None else KINDS[option.kind]
            raise UsageError(f"%{magic}: {option.flag} needs a value, e.g. {option.flag} {example}")
        values[key] = value
    return values, positional


def parse_body(cell: str, options: dict[str, Option]) -> dict:
    """The TOML settings of a cell body; ``[data]``, ``[model]`` and ``[train]`` tables
    may group them as in :class:`~windwidgets.config.RunConfig`."""
    return {name: options[name].from_toml(value) for name, value in _body_table(cell, options).items()}


def _body_table(cell: str, options: dict[str, Option]) -> dict:
    """The TOML of a cell body as flat ``{name: value}``, every name an option."""
    if not cell or not cell.strip():
        return {}
    if tomllib is None:  # pragma: no cover
        raise UsageError("a %%windtrain cell body needs Python 3.11 (tomllib) or the tomli package")
    try:
        table = tomllib.loads(_quoted_none(cell))
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"the cell body is not valid TOML ({error}); write one setting a line, "
                         "e.g. hidden_size = 32 or target = \"speed\"") from None
    owners = keyword_owners()
    flat = {}
    for key, value in table.items():
        if key in RunConfig.SECTIONS and isinstance(value, dict):
            for inner, item in value.items():
                name = inner.replace("-", "_")
                if owners.get(name) != key:
                    where = (f"; it belongs in [{owners[name]}]" if name in owners
                             else _nearest(inner, options, ""))
                    raise UsageError(f"unknown key {inner!r} in [{key}] of the cell body{where}")
                flat[name] = item
        else:
            flat[key.replace("-", "_")] = value
    for name in flat:
        if name not in options:
            raise UsageError(f"unknown key {name!r} in the cell body{_nearest(name, options, '')}; "
                             "%windtrain? lists the settings")
    return flat


def sweep_body(cell: str, options: dict[str, Option]) -> tuple[dict, dict]:
    """A %%windsweep body: the fixed settings, and the search space (lists and ranges, such
    as ``model = ["lstm", "gru"]`` or ``lr = { loguniform = [1e-4, 1e-2] }``). A setting that
    takes column names (or numbers) is searched with a list of lists: ``covariates = [["a"], ["a", "b"]]``."""
    from .scale.space import is_range

    fixed, space = {}, {}
    for name, value in _body_table(cell, options).items():
        option = options[name]
        searched = is_range(value) or (isinstance(value, list) and (
            option.kind not in ("columns", "numbers") or any(isinstance(v, list) for v in value)))
        if searched and name in SWEEP_EXTRA:
            raise UsageError(f"`{name}` in the cell body is {value!r}; it is a setting of the sweep, not "
                             f"something to search: give one value")
        if searched:
            space[name] = [option.from_toml(v) for v in value] if isinstance(value, list) else value
        else:
            fixed[name] = option.from_toml(value)
    return fixed, space


# -- the magics ------------------------------------------------------------------------------
def _boolean(text: str, flag: str) -> bool:
    if text.lower() in TRUE:
        return True
    if text.lower() in FALSE:
        return False
    raise UsageError(f"{flag} takes true or false, not {text!r}")


def _pairs(text: str, flag: str) -> dict:
    values = {}
    for part in filter(None, (p.strip() for p in _top_level(text))):
        key, has_value, value = part.partition("=")
        if not has_value or not key.strip().isidentifier():
            raise UsageError(f"{flag} takes key=value pairs separated by commas, not {part!r}")
        values[key.strip()] = _literal(value.strip())
    return values


def _top_level(text: str) -> list[str]:
    """``text`` split at the commas outside brackets: "power=[0,inf],speed=[0,40]" is two pairs."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char in "[({") - (char in "])}")
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def _literal(text: str):
    """A TOML literal (3, 0.5, true, [1, 2], [0, none]) when the text is one, else the text itself."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == NONE:
        return None
    if tomllib is not None:
        try:
            return _none_in(tomllib.loads(f"value = {_quoted_none(text)}")["value"])
        except tomllib.TOMLDecodeError:
            pass
    return text


def _quoted_none(text: str) -> str:
    """TOML with each bare ``none`` (the README's word for None, which TOML lacks) in quotes;
    comments, quoted text and lines with single quotes are left as they are."""
    lines = []
    for line in text.splitlines():
        if "'" in line or line.count('"') % 2:  # single quotes, or a quote left open: TOML judges it
            lines.append(line)
            continue
        parts = line.split('"')
        for k in range(0, len(parts), 2):  # the text outside double quotes
            code, hash_, comment = parts[k].partition("#")
            parts[k] = BARE_NONE.sub('"none"', code) + hash_ + comment
            if hash_:
                break  # the rest of the line is a comment
        lines.append('"'.join(parts))
    return "\n".join(lines)


def _none_in(value):
    """"none" as None inside lists (TOML has no null): [0, "none"] is [0, None]."""
    if isinstance(value, list):
        return [None if isinstance(v, str) and v.lower() == NONE else _none_in(v) for v in value]
    return value


def _one_sided(bounds: dict) -> dict:
    """Bounds with "none" (or an empty side) as None: ``{"power": [0, None]}``."""
    return {name: _none_in(list(pair)) if isinstance(pair, (list, tuple)) else pair for name, pair in bounds.items()}


def _nearest(name: str, valid, prefix: str) -> str:
    if prefix:  # options are written with dashes
        name, valid = name.replace("_", "-"), [v.replace("_", "-") for v in valid]
    return closest(name, valid, form=prefix + "{}")


def _article(kind: str) -> str:
    return {"int": "a whole number", "float": "a number", "bool": "true or false",
            "columns": "a column name or a list of them", "numbers": "numbers separated by commas",
            "dict": "a table of options",
            "any": "a single value", "str": "text", "name": "a name"}[kind]


def _show(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "{}"
    return str(value)


def _toml(value, kind: str) -> str:
    """An example of a TOML value for ``kind``: the default where it is one."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is not None and kind in ("int", "float", "str"):
        return f'"{value}"' if kind == "str" else str(value)
    return {"int": "64", "float": "0.5", "bool": "true", "str": '"text"', "name": '"df"',
            "columns": '["a", "b"]', "numbers": "[0.1, 0.5, 0.9]", "dict": "{ kernel_size = 3 }",
            "any": '"auto"'}[kind]
