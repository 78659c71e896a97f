"""Form fields read into the API's own request models, with errors a person can act on.

The web forms validate with the same Pydantic models as the HTTP API (``OrderIn``,
``PreclearanceIn``), so a value the API refuses is refused here too. Errors name the field by its
label on the form and say how to fix it; they never echo the value (it may be anything).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

M = TypeVar("M", bound=BaseModel)

LABELS: Final = {
    "order_id": "Order id",
    "account": "Account",
    "symbol": "Symbol",
    "side": "Side",
    "qty": "Quantity",
    "price": "Limit price",
    "venue": "Venue",
}
# Pydantic's error type -> what to do about it, in the form's words.
FIXES: Final = {
    "missing": "is required",
    "string_too_short": "is required",
    "string_too_long": "is too long (128 characters at most)",
    "string_pattern_mismatch": "may hold only letters, digits and . _ : @ -",
    "float_parsing": "must be a number, such as 100 or 189.5",
    "float_type": "must be a number, such as 100 or 189.5",
    "finite_number": "must be a finite number",
    "greater_than": "must be more than 0",
    "less_than": "must be below 1,000,000,000,000",
    "enum": "must be buy or sell",
}


class FormError(Exception):
    """Form fields that do not make a valid request: ``errors`` maps each field to its message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = dict(errors)


def form_values(form: FormData, fields: tuple[str, ...], *, upper: tuple[str, ...] = ()) -> dict[str, str]:
    """The named fields as trimmed text ('' when absent); ``upper`` ones upper-cased (symbols)."""
    values = {}
    for name in fields:
        raw = form.get(name)
        text = raw.strip() if isinstance(raw, str) else ""
        values[name] = text.upper() if name in upper else text
    return values


def parse_form(model: type[M], values: Mapping[str, object]) -> M:
    """``values`` as ``model``; raises ``FormError`` naming each bad field and its fix."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors(include_input=False):
            field = str(error["loc"][0]) if error["loc"] else "form"
            fix = FIXES.get(error["type"], str(error["msg"]))
            errors.setdefault(field, f"{LABELS.get(field, field)} {fix}.")
        raise FormError(errors) from None
