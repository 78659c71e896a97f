"""Approval requests in SQLite or PostgreSQL (tables from migration 0003_controls)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from sqlalchemy import Engine, func, select

from orderguard.approvals.model import (
    ApprovalRequest,
    BreakGlassGrant,
    RequestStatus,
    SensitiveAction,
    Verdict,
    Vote,
)
from orderguard.domain import Role
from orderguard.storage.controls_tables import approval_requests as requests_t
from orderguard.storage.controls_tables import approval_votes as votes_t


class SqlApprovalStore:
    """``ApprovalStore`` on a migrated database; each ``save`` is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, request: ApprovalRequest) -> None:
        row = {
            "action": request.action.value,
            "object_id": request.object_id,
            "initiator": request.initiator,
            "content": json.dumps(request.content, sort_keys=True, separators=(",", ":")),
            "digest": request.digest,
            "created_ns": request.created_ns,
            "expires_ns": request.expires_ns,
            "quorum": request.quorum,
            "eligible_roles": ",".join(sorted(r.value for r in request.eligible_roles)),
            "status": request.status.value,
            "closed_reason": request.closed_reason,
            "break_glass": None if request.break_glass is None else json.dumps(asdict(request.break_glass)),
        }
        with self.engine.begin() as conn:
            updated = conn.execute(requests_t.update().where(requests_t.c.id == request.id).values(**row))
            if updated.rowcount == 0:
                conn.execute(requests_t.insert().values(id=request.id, **row))
            stored = conn.execute(
                select(func.count()).select_from(votes_t).where(votes_t.c.request_id == request.id)
            ).scalar_one()
            new_votes = [
                {
                    "request_id": request.id,
                    "seq": seq,
                    "approver": v.approver,
                    "digest": v.digest,
                    "verdict": v.verdict.value,
                    "ts": v.ts,
                    "note": v.note,
                }
                for seq, v in enumerate(request.votes)
                if seq >= stored
            ]
            if new_votes:
                conn.execute(votes_t.insert(), new_votes)

    def get(self, request_id: str) -> ApprovalRequest | None:
        found = self._load(requests_t.c.id == request_id)
        return found[0] if found else None

    def by_object(self, action: SensitiveAction, object_id: str) -> ApprovalRequest | None:
        found = self._load((requests_t.c.action == action.value) & (requests_t.c.object_id == object_id))
        return max(found, key=lambda r: r.created_ns) if found else None

    def requests(self, status: RequestStatus | None = None) -> list[ApprovalRequest]:
        return self._load(None if status is None else requests_t.c.status == status.value)

    def _load(self, where: Any) -> list[ApprovalRequest]:
        query = select(requests_t).order_by(requests_t.c.created_ns, requests_t.c.id)
        if where is not None:
            query = query.where(where)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
            ids = [r["id"] for r in rows]
            votes: dict[str, list[Vote]] = {i: [] for i in ids}
            if ids:
                vote_rows = conn.execute(
                    select(votes_t)
                    .where(votes_t.c.request_id.in_(ids))
                    .order_by(votes_t.c.request_id, votes_t.c.seq)
                ).mappings()
                for v in vote_rows:
                    votes[v["request_id"]].append(
                        Vote(
                            v["request_id"],
                            v["approver"],
                            v["digest"],
                            Verdict(v["verdict"]),
                            v["ts"],
                            v["note"],
                        )
                    )
        return [_request(r, tuple(votes[r["id"]])) for r in rows]


def _request(row: Any, votes: tuple[Vote, ...]) -> ApprovalRequest:
    grant = None
    if row["break_glass"] is not None:
        data = json.loads(row["break_glass"])
        data["notified"] = tuple(data["notified"])
        grant = BreakGlassGrant(**data)
    return ApprovalRequest(
        id=row["id"],
        action=SensitiveAction(row["action"]),
        object_id=row["object_id"],
        initiator=row["initiator"],
        content=json.loads(row["content"]),
        digest=row["digest"],
        created_ns=row["created_ns"],
        expires_ns=row["expires_ns"],
        quorum=row["quorum"],
        eligible_roles=frozenset(Role(r) for r in row["eligible_roles"].split(",") if r),
        status=RequestStatus(row["status"]),
        votes=votes,
        closed_reason=row["closed_reason"],
        break_glass=grant,
    )
