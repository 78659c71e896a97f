"""Alerts, cases and incident response: from an alert to preserved, verifiable evidence (docs/cases.md).

``build_cases`` (``orderguard.cases.stack``) wires the services; the gateway consults
``ResponseState`` (``orderguard.cases.state``) for suspensions, blocked patterns and legal holds.
"""
