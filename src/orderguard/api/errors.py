"""Errors as one JSON shape: ``{"error": {"code": ..., "message": ...}}`` with a fitting status
(a request that fails validation also lists its fields in ``detail``)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class ApiError(Exception):
    """Raised by routes and dependencies; rendered by ``api_error_handler``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


async def api_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    body = ErrorResponse(error=ErrorBody(code=exc.code, message=exc.message))
    return JSONResponse(body.model_dump(), status_code=exc.status, headers=exc.headers)


async def http_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """Framework errors (unparseable body, unknown path, wrong method) in the same error shape."""
    assert isinstance(exc, StarletteHTTPException)
    body = ErrorResponse(error=ErrorBody(code=f"HTTP_{exc.status_code}", message=str(exc.detail)))
    return JSONResponse(body.model_dump(), status_code=exc.status_code, headers=exc.headers)


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorResponse(ErrorResponse):
    detail: list[FieldError]


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """A request that fails validation: 422 naming each field (``detail[].loc``), what is wrong
    with it and the error type; never the input itself (a NaN or an infinity in a JSON body
    cannot be rendered as JSON, and echoing input back is a leak either way)."""
    assert isinstance(exc, RequestValidationError)
    fields = [
        FieldError(
            loc=list(error.get("loc", ())), msg=str(error.get("msg", "")), type=str(error.get("type", ""))
        )
        for error in exc.errors()
    ]
    where = "; ".join(f"{'.'.join(str(part) for part in f.loc)}: {f.msg}" for f in fields[:5])
    body = ValidationErrorResponse(
        error=ErrorBody(code="INVALID_REQUEST", message=f"the request is invalid: {where}"), detail=fields
    )
    return JSONResponse(body.model_dump(), status_code=422)


# Documented on every authenticated route.
Responses = dict[int | str, dict[str, Any]]
ERROR_RESPONSES: Responses = {
    400: {"model": ErrorResponse, "description": "the request body cannot be parsed or is refused"},
    401: {"model": ErrorResponse, "description": "no or invalid credentials"},
    403: {"model": ErrorResponse, "description": "authenticated but not authorized (reason code)"},
    422: {
        "model": ValidationErrorResponse,
        "description": "the request fails validation: `detail` names each field, what is wrong and the type",
    },
}
