"""Tamper-evident audit trail: RFC 9162 Merkle log, signed checkpoints, proofs, verification, bundles.

Stages write through ``orderguard.domain.audit.AuditSink``; ``AuditLog`` here is the durable
implementation. See docs/audit.md for the leaf format and the threat model.
"""
