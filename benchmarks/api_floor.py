"""The floor under order entry through HTTP: what the framework alone costs per order on this machine.

Serves minimal apps with uvicorn (uvloop + httptools, as ``orderguard serve``) that take the same
request as ``POST /api/v1/orders`` (the same JSON body, an ``Authorization: Bearer`` header) and
answer a canned acceptance of the same shape, without any control, audit or execution:

* ``fastapi``: a FastAPI route with the ``OrderIn`` body model and a header dependency that looks
  the token up in a dict (what orderguard's order route declares, minus its work);
* ``asgi``: a bare ASGI callable that checks the token and validates the body with the same
  ``OrderIn`` model (``model_validate_json``), no framework.

The load is ``wrk`` with ``bench_api.lua`` (32 connections, one thread), as in ``bench_api.py``. It
prints requests/s, latency and the server's CPU per request: the ceiling that the order path's
own work divides further.

    .venv/bin/python benchmarks/api_floor.py            # 20 s per app
    .venv/bin/python benchmarks/api_floor.py --quick    # 3 s smoke run
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # run as a script: ``benchmarks`` as a package, beside ``src``
TOKEN = "og_floor_" + "x" * 40
ANSWER = (
    b'{"order_id":"%s","accepted":true,"decision":{"allowed":true,"reason_code":"ALLOWED",'
    b'"message":"canned","policy_ids":[]},"audit_index":0,"executions":0,"alerts":[]}'
)


def fastapi_app() -> Any:
    from typing import Annotated

    from fastapi import Depends, FastAPI, Header, HTTPException, Response

    from orderguard.api.schemas import OrderIn

    app = FastAPI()
    tokens = {TOKEN: "alice"}

    async def caller(authorization: Annotated[str, Header()] = "") -> str:
        principal = tokens.get(authorization.removeprefix("Bearer "))
        if principal is None:
            raise HTTPException(401)
        return principal

    @app.post("/api/v1/orders")
    async def submit(body: OrderIn, who: Annotated[str, Depends(caller)]) -> Response:
        assert who  # authenticated: the canned answer is for a caller the dependency found
        return Response(ANSWER % body.order_id.encode(), media_type="application/json")

    return app


def asgi_app() -> Any:
    from pydantic import ValidationError

    from orderguard.api.schemas import OrderIn

    expected = b"Bearer " + TOKEN.encode()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        status, body = 200, b""
        if headers.get(b"authorization") != expected:
            status = 401
        else:
            try:
                order = OrderIn.model_validate_json(b"".join(chunks))
            except ValidationError:
                status = 422
            else:
                body = ANSWER % order.order_id.encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


def serve(kind: str, port: int) -> None:
    """Run in the server subprocess: the chosen app under uvicorn, as ``orderguard serve`` runs it."""
    import uvicorn

    sys.path.insert(0, str(ROOT / "src"))
    app = fastapi_app() if kind == "fastapi" else asgi_app()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(kind: str, seconds: float, clients: int) -> str:
    from benchmarks.bench_api import free_port, load_average, wrk_load

    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"the {kind} server did not start within 30 s") from None
                time.sleep(0.1)
        wrk_load(port, TOKEN, 1, clients, 10**9, orders=True)  # warm-up (its ids repeat: canned answers)
        before = process_cpu_s(server.pid)
        load = wrk_load(port, TOKEN, seconds, clients, 10**9, orders=True)
        cpu = process_cpu_s(server.pid) - before
    finally:
        server.terminate()
        server.wait(timeout=30)
    return (
        f"| {kind} | {load.requests / load.seconds:,.0f} | {load.p50_ms:.1f} | {load.p99_ms:.1f} | "
        f"{1e3 * cpu / load.requests:.3f} | {load_average()} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per app instead of 20 s")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--serve", choices=("fastapi", "asgi"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return 0
    seconds = args.seconds or (3.0 if args.quick else 20.0)
    print(f"machine: {os.cpu_count()} cores; {seconds:g} s per app, {args.clients} connections, wrk -t1\n")
    print("| app | requests/s | p50 ms | p99 ms | server CPU ms/request | load |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in ("fastapi", "asgi"):
        print(measure(kind, seconds, args.clients), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
