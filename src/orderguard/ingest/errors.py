"""Ingestion errors: each names the file, the place, the field, what was expected and the fix."""

from __future__ import annotations

from dataclasses import dataclass, field


class IngestError(ValueError):
    """An input that cannot be ingested. Nothing from its file is kept."""

    def __init__(
        self,
        path: str,
        location: str | None,
        field: str | None,
        expected: str,
        *,
        found: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.path = path
        self.location = location
        self.field = field
        self.expected = expected
        self.found = found
        self.fix = fix
        super().__init__(self._message())

    def _message(self) -> str:
        place = ", ".join(part for part in (self.path, self.location) if part)
        where = f"{place}: field {self.field!r}" if self.field else place
        text = f"{where}: expected {self.expected}"
        if self.found is not None:
            text += f", found {self.found}"
        if self.fix:
            text += f"; fix: {self.fix}"
        return text

    @property
    def row_key(self) -> int:
        """Sort key: the number in the location ('line 12' → 12), 0 when the whole file is at fault."""
        if not self.location:
            return 0
        digits = "".join(ch for ch in self.location.split()[-1] if ch.isdigit())
        return int(digits) if digits else 0


@dataclass
class FileReport:
    """What validating one file found: counts per kind if valid, else its first errors."""

    path: str
    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[IngestError] = field(default_factory=list)
    more_errors: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class IngestReport:
    """The outcome of validating several files together (duplicates are checked across them)."""

    files: list[FileReport]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)

    @property
    def errors(self) -> list[IngestError]:
        return [e for f in self.files for e in f.errors]
