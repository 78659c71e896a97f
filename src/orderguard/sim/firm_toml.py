"""Write a FirmConfig back to a firm file that orderguard.config.load_config reads (tomllib only reads)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from orderguard.config import FirmConfig


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_scalar(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _key(name: str) -> str:
    return name if name.replace("_", "").replace("-", "").isalnum() else json.dumps(name)


def _is_table_array(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _section(lines: list[str], prefix: str, data: Mapping[str, object]) -> None:
    nested: list[tuple[str, object]] = []
    for name, value in data.items():
        if (isinstance(value, Mapping) and value) or _is_table_array(value):
            nested.append((name, value))
        else:
            lines.append(f"{_key(name)} = {_scalar(value)}")
    for name, value in nested:
        path = f"{prefix}.{_key(name)}" if prefix else _key(name)
        if isinstance(value, Mapping):
            lines.extend(["", f"[{path}]"])
            _section(lines, path, value)
        else:
            assert isinstance(value, list)
            for item in value:
                lines.extend(["", f"[[{path}]]"])
                _section(lines, path, item)


def firm_toml(firm: FirmConfig, header: str = "") -> str:
    """The firm as TOML text; None fields are left out so that defaults apply on reading."""
    data = firm.model_dump(mode="json", exclude_none=True)
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    _section(lines, "", data)
    return "\n".join(lines) + "\n"


def write_firm_toml(firm: FirmConfig, path: Path | str, header: str = "") -> Path:
    path = Path(path)
    path.write_text(firm_toml(firm, header), encoding="utf-8")
    return path
