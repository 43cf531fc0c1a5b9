"""Typed settings from YAML, and typed records from files other programs wrote: dataclasses are the
schema, parsed mappings fill them.

``build(cls, data, where)`` turns a mapping into a (frozen) dataclass, checking every key and type; an
unknown key or a value of the wrong type is a one-line :class:`ConfigError` that names the file, the key
and, for a misspelling, the closest valid key. ``Literal`` types carry the choices a key accepts, so each
choice list is written once. Numbers must be finite; ``Annotated`` adds bounds (``Annotated[float,
Between(0, 1)]``, ``Size``, ``Matches``). A :class:`FileRecord` (an events file, a checkpoint's metadata)
ignores keys it does not know, so files from newer versions still read; a field with a default may be absent.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import os
import re
import reprlib
import types
import typing
from typing import Annotated, Any, Callable, Literal, Union

from highlighter.errors import ConfigError


class FileRecord:
    """Base of a schema for a file another program (or version) writes: unknown keys are ignored."""


@dataclasses.dataclass(frozen=True)
class Between:
    """``Annotated[float, Between(0, 1)]``: a number from ``low`` to ``high``, both included."""

    low: float
    high: float

    def problem(self, value: float) -> str | None:
        return None if self.low <= value <= self.high else f"between {self.low:g} and {self.high:g}"


@dataclasses.dataclass(frozen=True)
class Size:
    """``Annotated[list[str], Size(1, 100)]``: a text, list or mapping of ``low`` to ``high`` items."""

    low: int
    high: int

    def problem(self, value: typing.Sized) -> str | None:
        return None if self.low <= len(value) <= self.high else f"of {self.low} to {self.high} items"


@dataclasses.dataclass(frozen=True)
class Matches:
    """``Annotated[str, Matches(r"[0-9a-f]{64}", "64 hexadecimal digits")]``: text the pattern matches whole."""

    pattern: str
    description: str

    def problem(self, value: str) -> str | None:
        return None if re.fullmatch(self.pattern, value) else self.description


#: text on one line (no control character: nothing a file holds can start a line of our output), as long as a path
OneLine = Annotated[str, Matches(r"[^\x00-\x1f\x7f]{0,4096}", "one line of at most 4096 characters")]

_SHORT = reprlib.Repr()
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxlevel = 60, 60, 4, 4, 2


def shown(value: Any) -> str:
    """``repr(value)`` cut short: error messages show at most about 60 characters of a value (a hostile file
    can hold megabytes in one string)."""
    return _SHORT.repr(value)


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, Converter, bool], ...]:
    """Each field of the schema ``cls``: its name, the converter of its type and whether it may be absent (it
    has a default)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    return tuple((f.name, _converter(hints[f.name]), f.default is not dataclasses.MISSING
                  or f.default_factory is not dataclasses.MISSING) for f in dataclasses.fields(cls))


def closest(key: str, valid: typing.Iterable[str]) -> str:
    """`` (did you mean 'threshold'?)`` for a near miss, else ``""``."""
    match = difflib.get_close_matches(key, list(valid), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def qualified_names(cls: type, path: str = "") -> list[str]:
    """Every setting of the schema ``cls`` by its dotted name (``smoother.threshold``)."""
    names = []
    for field in dataclasses.fields(cls):
        kind = typing.get_type_hints(cls)[field.name]
        names += qualified_names(kind, f"{path}{field.name}.") if dataclasses.is_dataclass(kind) else [path + field.name]
    return names


def check_keys(cls: type, data: dict[str, Any], where: str, path: str, everywhere: list[str]) -> None:
    """Every key of ``data`` must be a field of ``cls``; a misspelling gets the closest valid key, looked
    for in the same section first, then anywhere in the schema (a setting in the wrong section)."""
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            elsewhere: dict[str, str] = {}
            for name in everywhere:  # the first section that has the key (shared sections come first)
                elsewhere.setdefault(name.rsplit(".", 1)[-1], name)
            hint = closest(str(key), names)
            if not hint:
                match = difflib.get_close_matches(str(key), list(elsewhere), n=1, cutoff=0.6)
                hint = f" (did you mean {elsewhere[match[0]]!r}?)" if match else ""
            raise ConfigError(f"{where}: unknown setting {path}{key}{hint}")


def build(cls: type, data: dict[str, Any], where: str, path: str = "", partial: bool = False,
          everywhere: list[str] | None = None) -> Any:
    """``cls`` filled from ``data``; with ``partial`` the fields ``data`` lacks are left out and a dict of
    the checked values is returned instead (for checking a user's overlay on its own)."""
    record = issubclass(cls, FileRecord)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: {path.rstrip('.') or 'the file'} must be a mapping"
                          f"{'' if record else ' of settings'}, got {shown(data)}")
    if not record:
        everywhere = qualified_names(cls) if everywhere is None else everywhere
        check_keys(cls, data, where, path, everywhere)
    values = {}
    for name, converter, optional in _fields(cls):
        if name not in data:
            if partial or optional:
                continue
            raise ConfigError(f"{where}: missing {'' if record else 'setting '}{path}{name}")
        values[name] = converter(data[name], where, f"{path}{name}", partial, everywhere)
    return values if partial else cls(**values)


def convert(kind: Any, value: Any, where: str, key: str, partial: bool = False,
            everywhere: list[str] | None = None) -> Any:
    """``value`` checked against the type ``kind`` (and converted where YAML's types are looser: an int
    for a float, a list for a tuple)."""
    return _converter(kind)(value, where, key, partial, everywhere)


#: checks and converts one value: (value, where, key, partial, everywhere) -> value
Converter = Callable[[Any, str, str, bool, "list[str] | None"], Any]
_NAMES = {float: "a number", int: "a whole number", str: "text", bool: "true or false"}


@functools.cache
def _converter(kind: Any) -> Converter:
    """The converter of the type ``kind``, made once per type (a file can hold 100k records: the type is read
    once, not once per value)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if dataclasses.is_dataclass(kind):
        return lambda value, where, key, partial, everywhere: build(kind, value, where, f"{key}.", partial, everywhere)
    if origin is Annotated:
        return _bounded(_converter(args[0]), args[1:])
    if origin in (Union, types.UnionType):
        return _union([_converter(a) for a in args if a is not type(None)], type(None) in args)
    if origin is Literal:
        def literal(value, where, key, partial, everywhere):
            if not any(value == choice and type(value) is type(choice) for choice in args):  # True is not 1
                raise ConfigError(f"{where}: {key} is {shown(value)}; choose one of {', '.join(map(str, args))}")
            return value
        return literal
    if origin is dict:
        return _mapping(_converter(args[1]))
    if origin in (tuple, list):
        return _sequence(origin, args)
    return _scalar(kind)


def _bounded(base: Converter, bounds: tuple) -> Converter:
    def bounded(value, where, key, partial, everywhere):
        converted = base(value, where, key, partial, everywhere)
        for bound in bounds:
            if (problem := bound.problem(converted)) is not None:
                raise ConfigError(f"{where}: {key} must be {problem}, got {shown(value)}")
        return converted
    return bounded


def _union(options: list[Converter], optional: bool) -> Converter:
    def union(value, where, key, partial, everywhere):
        if value is None and optional:
            return None
        errors = []
        for option in options:
            try:
                return option(value, where, key, partial, everywhere)
            except ConfigError as exc:
                errors.append(exc)
        raise errors[0]
    return union


def _mapping(item: Converter) -> Converter:
    def mapping(value, where, key, partial, everywhere):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {key} must be a mapping, got {shown(value)}")
        return {str(k): item(v, where, f"{key}.{k}", False, None) for k, v in value.items()}
    return mapping


def _sequence(origin: type, args: tuple) -> Converter:
    variadic = origin is list or ... in args
    items = [_converter(args[0])] if variadic else [_converter(a) for a in args]

    def sequence(value, where, key, partial, everywhere):
        if not isinstance(value, (list, tuple)) or (not variadic and len(value) != len(args)):
            raise ConfigError(f"{where}: {key} must be a list of {'some' if variadic else len(args)} values, "
                              f"got {shown(value)}")
        converted = [items[0 if variadic else i](v, where, f"{key}[{i}]", False, None) for i, v in enumerate(value)]
        return converted if origin is list else tuple(converted)
    return sequence


def _scalar(kind: Any) -> Converter:
    if kind is Any:
        return lambda value, where, key, partial, everywhere: value
    if kind is float:
        def number(value, where, key, partial, everywhere):
            if type(value) is float or isinstance(value, int) and not isinstance(value, bool):
                if math.isfinite(value):
                    return float(value)
                raise ConfigError(f"{where}: {key} must be a finite number, got {shown(value)}")
            raise ConfigError(f"{where}: {key} must be a number, got {shown(value)}")
        return number

    def scalar(value, where, key, partial, everywhere):
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        if kind is str and isinstance(value, os.PathLike):  # a path given to the API
            return os.fspath(value)
        raise ConfigError(f"{where}: {key} must be {_NAMES.get(kind, kind)}, got {shown(value)}")
    return scalar


def choices(cls: type, name: str) -> tuple[str, ...]:
    """The values a ``Literal`` field of ``cls`` accepts (for click.Choice and error messages)."""
    kind = typing.get_type_hints(cls)[name]
    if typing.get_origin(kind) in (Union, types.UnionType):
        kind = next(a for a in typing.get_args(kind) if typing.get_origin(a) is Literal)
    return typing.get_args(kind)
