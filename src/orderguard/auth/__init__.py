"""Authentication for the HTTP API and the web UI: API tokens, passwords and sessions, OIDC JWTs.

Every credential resolves to a principal id of the firm file; authorization happens afterwards
(Cedar, in ``orderguard.api.deps``).
"""
