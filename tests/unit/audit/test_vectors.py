"""The proof verifiers accept every happy-path vector and reject every wantErr one."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from orderguard.audit.proofs import ProofError, verify_consistency, verify_inclusion
from tests.conftest import VECTORS

pytestmark = pytest.mark.skipif(
    not VECTORS.is_dir(), reason=f"Merkle test vectors not found at {VECTORS} (../shared/vectors/merkle)"
)


def load(kind: str) -> list[tuple[Path, dict[str, Any]]]:
    if not VECTORS.is_dir():
        return []
    return [(path, json.loads(path.read_text())) for path in sorted((VECTORS / kind).rglob("*.json"))]


def decode(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def decode_all(values: list[str] | None) -> list[bytes]:
    return [decode(value) for value in values or []]


def ids(cases: list[tuple[Path, dict[str, Any]]]) -> list[str]:
    return [str(path.relative_to(VECTORS)) for path, _ in cases]


INCLUSION = load("inclusion")
CONSISTENCY = load("consistency")


class TestVectors:
    def test_vectors_present(self) -> None:
        """The vector folder holds both kinds, with both happy and failing cases."""
        assert len(INCLUSION) > 20
        assert len(CONSISTENCY) > 20
        assert {case["wantErr"] for _, case in INCLUSION + CONSISTENCY} == {True, False}

    @pytest.mark.parametrize(("path", "case"), INCLUSION, ids=ids(INCLUSION))
    def test_inclusion(self, path: Path, case: dict[str, Any]) -> None:
        """The inclusion verifier's verdict matches the vector's wantErr."""
        args = (case["leafIdx"], case["treeSize"], decode(case["leafHash"]), decode_all(case["proof"]))
        if case["wantErr"]:
            with pytest.raises(ProofError):
                verify_inclusion(*args, decode(case["root"]))
        else:
            verify_inclusion(*args, decode(case["root"]))

    @pytest.mark.parametrize(("path", "case"), CONSISTENCY, ids=ids(CONSISTENCY))
    def test_consistency(self, path: Path, case: dict[str, Any]) -> None:
        """The consistency verifier's verdict matches the vector's wantErr."""
        args = (case["size1"], case["size2"], decode(case["root1"]), decode(case["root2"]))
        if case["wantErr"]:
            with pytest.raises(ProofError):
                verify_consistency(*args, decode_all(case["proof"]))
        else:
            verify_consistency(*args, decode_all(case["proof"]))
