"""The HTTP API (FastAPI): routers per feature, authentication and Cedar authorization as dependencies.

``create_app(ctx)`` builds the ASGI app for an ``orderguard.app.AppContext``; docs/api.md.
"""

from orderguard.api.app import create_app

__all__ = ["create_app"]
