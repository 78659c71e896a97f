"""Pydantic validation errors of the firm file → one line per problem: file, key path, what is wrong.

An unknown key gets the closest known key as a suggestion (a typo must be easy
to fix, not only refused); a wrong value shows what was given.
"""

from __future__ import annotations

import difflib
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

REFERENCE = "docs/configuration.md"


def key_path(loc: tuple[int | str, ...]) -> str:
    """Pydantic's location as the TOML key path a user sees: ``principals[0].roles[1]``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def describe(exc: ValidationError, source: str, root: type[BaseModel]) -> str:
    """Every error in ``exc`` as ``SOURCE: KEY.PATH: problem``, one per line."""
    return "\n".join(f"{source}: {_describe_one(err, root)}" for err in exc.errors())


def _describe_one(err: Any, root: type[BaseModel]) -> str:
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden":
        return f"{key_path(loc)}: unknown key{_suggestion(loc, root)}; see {REFERENCE}"
    if err["type"] == "missing":
        return f"{key_path(loc)}: required key is missing; see {REFERENCE}"
    if err["type"] == "value_error":
        message = str(err["ctx"]["error"])
    else:
        message = err["msg"]
        given = err.get("input")
        if isinstance(given, str | int | float | bool):
            message += f" (got {given!r})"
    # Checks across the whole file (duplicates) name their own key paths.
    return f"{key_path(loc)}: {message}" if loc else message


def _suggestion(loc: tuple[int | str, ...], root: type[BaseModel]) -> str:
    known = _keys_at(loc[:-1], root)
    if not known:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known keys here: {', '.join(known)})"


def _keys_at(loc: tuple[int | str, ...], root: type[BaseModel]) -> list[str]:
    """The keys the model allows at ``loc``, or [] when ``loc`` does not lead to a model."""
    current: Any = root
    for part in loc:
        if isinstance(part, int):
            continue  # the element type was already taken from the tuple annotation
        if (
            not (isinstance(current, type) and issubclass(current, BaseModel))
            or part not in current.model_fields
        ):
            return []
        current = _element(current.model_fields[part].annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _element(annotation: Any) -> Any:
    """``X`` from ``X | None`` and from ``tuple[X, ...]``."""
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is tuple:
        annotation = get_args(annotation)[0]
    return annotation
