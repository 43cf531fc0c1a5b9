"""Typed settings from YAML: dataclasses are the schema, YAML mappings fill them.

``build(cls, data, where)`` turns a mapping into a (frozen) dataclass, checking every key and type; an
unknown key or a value of the wrong type is a one-line :class:`ConfigError` that names the file, the key
and, for a misspelling, the closest valid key. ``Literal`` types carry the choices a key accepts, so each
choice list is written once.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from typing import Any, Literal, Union

from highlighter.errors import ConfigError


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
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: {path.rstrip('.') or 'the file'} must be a mapping of settings")
    everywhere = qualified_names(cls) if everywhere is None else everywhere
    check_keys(cls, data, where, path, everywhere)
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        if field.name not in data:
            if partial:
                continue
            raise ConfigError(f"{where}: missing setting {path}{field.name}")
        values[field.name] = convert(hints[field.name], data[field.name], where, f"{path}{field.name}", partial,
                                     everywhere)
    return values if partial else cls(**values)


def convert(kind: Any, value: Any, where: str, key: str, partial: bool = False,
            everywhere: list[str] | None = None) -> Any:
    """``value`` checked against the type ``kind`` (and converted where YAML's types are looser: an int
    for a float, a list for a tuple)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if dataclasses.is_dataclass(kind):
        return build(kind, value, where, f"{key}.", partial, everywhere)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return convert(option, value, where, key, partial, everywhere)
            except ConfigError as exc:
                errors.append(exc)
        raise errors[0]
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{where}: {key} is {value!r}; choose one of {', '.join(map(str, args))}")
        return value
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: {key} must be a mapping, got {value!r}")
        return {str(k): convert(args[1], v, where, f"{key}.{k}") for k, v in value.items()}
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)) or (origin is tuple and ... not in args and len(value) != len(args)):
            raise ConfigError(f"{where}: {key} must be a list of {len(args) if origin is tuple else 'some'} values, "
                              f"got {value!r}")
        items = [convert(args[0] if origin is list or ... in args else args[i], v, where, f"{key}[{i}]")
                 for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if kind is str and isinstance(value, os.PathLike):  # a path given to the API
        return os.fspath(value)
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind is Any or (isinstance(kind, type) and isinstance(value, kind) and not (kind is int and isinstance(value, bool))):
        return value
    names = {float: "a number", int: "a whole number", str: "text", bool: "true or false"}
    raise ConfigError(f"{where}: {key} must be {names.get(kind, kind)}, got {value!r}")


def choices(cls: type, name: str) -> tuple[str, ...]:
    """The values a ``Literal`` field of ``cls`` accepts (for click.Choice and error messages)."""
    kind = typing.get_type_hints(cls)[name]
    if typing.get_origin(kind) in (Union, types.UnionType):
        kind = next(a for a in typing.get_args(kind) if typing.get_origin(a) is Literal)
    return typing.get_args(kind)
