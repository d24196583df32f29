"""Every control-plane operation, authorised by role (:mod:`.principal`) and audited in the
same transaction, with the full image of every row it writes (:mod:`.replay`).

A request names a region, an action (activate / deactivate), a justification, optionally the
party it is filed on behalf of and the validity interval of the change. It is approved by one
operator, or by two different, confirmed operators where the change reaches a sensitive zone
(:mod:`.zones`: any region sharing a cell with a sensitive region, overlapping or not), and
never by the operator who filed it; approval creates the policy state. Changes that reach a
sensitive zone happen only through such requests. Users and credentials: :mod:`.accounts`.
"""

from __future__ import annotations

import json
import time
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, FunctionElement, Text, bindparam, select
from sqlalchemy.ext.compiler import compiles

from leonet.control import audit
from leonet.control.accounts import AccountsMixin
from leonet.control.db import (
    audit_head,
    decisions,
    insert_row,
    policy_states,
    read_one,
    read_tx,
    regions,
    requests,
    update_row,
)
from leonet.control.errors import ConflictError, ForbiddenError, NotFoundError
from leonet.control.principal import PERMISSIONS, ROLES, Principal, require
from leonet.control.validate import check_interval, check_key, check_text, check_time
from leonet.control.zones import GROUND_LOCK, cached_reach, reaches
from leonet.errors import InputError
from leonet.times import format_time

ACTIONS = ("activate", "deactivate")
STATES = ("pending", "approved", "rejected", "withdrawn")
MAX_CELLS = 200_000


class _RegionRef(NamedTuple):
    """A region's identity: what :meth:`ControlService.zones_reached` needs of it."""

    id: int
    key: str
    created_at: str


# Statements built once (each call only binds its values).
_REGION_REF_COLS = (regions.c.id, regions.c.key, regions.c.created_at, regions.c.name, regions.c.kind, regions.c.sensitive)
_SENSITIVE_ZONES = select(regions.c.id, regions.c.key, regions.c.created_at).where(regions.c.sensitive.is_(True)).order_by(regions.c.id)
_REGION_BY_ID = select(regions).where(regions.c.id == bindparam("rid"))
_REGION_BY_KEY = select(regions).where(regions.c.key == bindparam("key"))


class _ZoneRefs(FunctionElement[str]):
    """The sensitive regions' identities as a JSON array of ``[id, key, created_at]``, so that a
    request is read in one statement (one round trip, no transaction needed) with its zones."""

    type = Text()
    inherit_cache = True
    name = "leonet_zone_refs"


@compiles(_ZoneRefs, "sqlite")
def _zone_refs_sqlite(_element: Any, _compiler: Any, **_kw: Any) -> str:
    return "(SELECT json_group_array(json_array(id, \"key\", created_at)) FROM regions WHERE sensitive)"


@compiles(_ZoneRefs)
def _zone_refs_other(_element: Any, _compiler: Any, **_kw: Any) -> str:  # PostgreSQL
    return "(SELECT CAST(json_agg(json_build_array(id, \"key\", created_at)) AS TEXT) FROM regions WHERE sensitive)"


def _zones_of(row: Any) -> list[_RegionRef]:
    """The sensitive regions listed in a row read with :class:`_ZoneRefs`, by id."""
    return sorted((_RegionRef(int(i), k, c) for i, k, c in json.loads(row.zone_refs or "[]")), key=lambda z: z.id)


_REGION_REF_BY_KEY = select(*_REGION_REF_COLS, _ZoneRefs().label("zone_refs")).where(regions.c.key == bindparam("key"))
# A request, its region's identity, policy state, the sensitive zones and its decisions (one row each; one row of NULLs when none).
_REQUEST_BY_ID = (select(requests, regions.c.key, regions.c.created_at.label("region_created_at"),
                         select(policy_states.c.id).where(policy_states.c.request_id == requests.c.id).scalar_subquery().label("sid"),
                         _ZoneRefs().label("zone_refs"), decisions.c.id.label("d_id"), decisions.c.decided_by.label("d_by"),
                         decisions.c.decision.label("d_decision"), decisions.c.reason.label("d_reason"), decisions.c.created_at.label("d_at"))
                  .join(regions, regions.c.id == requests.c.region_id).outerjoin(decisions, decisions.c.request_id == requests.c.id)
                  .where(requests.c.id == bindparam("rid")).order_by(decisions.c.id))


class _Decision(NamedTuple):
    decided_by: str
    decision: str
    reason: str
    created_at: str


def approvals_needed(zones_reached: list[str]) -> int:
    """Distinct operators who must approve a change: two when it reaches a sensitive zone."""
    return 2 if zones_reached else 1


def _iso(ns: int | None) -> str | None:
    return None if ns is None else str(format_time(int(ns)))


def _now_ns() -> int:
    return time.time_ns()


class ControlService(AccountsMixin):
    """The control plane over one database engine (thread-safe; one transaction per call)."""

    def __init__(self, engine: Engine, signing_key: Any = None) -> None:
        """``signing_key``: the writers' Ed25519 key (see :func:`writers_key`); None signs nothing."""
        self.engine = engine
        self.signing_key = signing_key

    # ----------------------------------------------------------------- regions

    def create_region(self, who: Principal, key: str, kind: str, name: str | None = None, country: str | None = None,
                      geometry: dict[str, Any] | None = None, cells: list[str] | None = None, h3_res: int | None = None,
                      sensitive: bool = False) -> dict[str, Any]:
        """A region: a country (ISO code or name), a GeoJSON polygon or a set of H3 cells.

        ``sensitive``: its cells form a sensitive zone; every change reaching them needs two operators."""
        require(who, "regions.write")
        check_key(key, "region key")
        if name is not None:
            check_text(name, "name", 200)
        if not isinstance(sensitive, bool):
            raise InputError("sensitive must be true or false")
        values: dict[str, Any] = {"country": None, "geometry": None, "cells": None, "h3_res": None}
        if kind == "country":
            if country is None or geometry is not None or cells is not None:
                raise InputError("a country region takes 'country' (an ISO 3166 code or name) and no geometry or cells")
            from leonet.ground.borders import load_countries

            with GROUND_LOCK:  # first use loads and compiles shared border code: one thread at a time
                rec = load_countries().lookup(check_text(country, "country", 100))  # type: ignore[arg-type]
            values["country"] = rec.iso_a3 or rec.name
            name = name or rec.name
        elif kind == "polygon":
            if geometry is None or country is not None or cells is not None:
                raise InputError("a polygon region takes 'geometry' (a GeoJSON Polygon or MultiPolygon, lon/lat degrees) and no country or cells")
            values["geometry"] = json.dumps(_check_geometry(geometry), separators=(",", ":"))
        elif kind == "cells":
            if cells is None or country is not None or geometry is not None:
                raise InputError("a cells region takes 'cells' (H3 ids in hex, all of one resolution) and no country or geometry")
            ids, res = _check_cells(cells, h3_res)
            values["cells"], values["h3_res"] = json.dumps(ids), res
        else:
            raise InputError(f"region kind {kind!r} is not one of country, polygon, cells")
        with self._write() as conn:
            if conn.execute(select(regions.c.id).where(regions.c.key == key)).first():
                raise ConflictError(f"region {key!r} already exists; pick another key")
            row = insert_row(conn, regions, key=key, kind=kind, name=name or key, sensitive=sensitive, created_by=who.name, created_at=audit.utc_now(), **values)
            audit.append(conn, who.name, "region.create", "region", key, {"kind": kind, "sensitive": sensitive}, [("regions", row)])
            return self._region_out(conn, row)

    def list_regions(self, who: Principal) -> list[dict[str, Any]]:
        require(who, "regions.read")
        with read_tx(self.engine) as conn:
            return [self._region_out(conn, r) for r in conn.execute(select(regions).order_by(regions.c.id)) if who.sees_region(r.key)]

    def get_region(self, who: Principal, key: str) -> dict[str, Any]:
        require(who, "regions.read")
        with read_tx(self.engine) as conn:
            return self._region_out(conn, self._region_row(conn, who, key))

    def _region_row(self, conn: Connection, who: Principal, key: str, full: bool = True) -> Any:
        """The region ``key`` visible to ``who`` (``full=False``: its identity and flags, not its shape)."""
        check_key(key, "region")
        row = conn.execute(_REGION_BY_KEY if full else _REGION_REF_BY_KEY, {"key": key}).first()
        if row is None or not who.sees_region(key):  # a partner cannot learn of other regions
            raise NotFoundError(f"no region {key!r}" + ("" if who.role == "partner" else "; list them with `leonet policy regions`"))
        return row

    def zones_reached(self, conn: Connection, row: Any, zones: list[Any] | None = None) -> list[str]:
        """Keys of the sensitive regions whose cells a change of region ``row`` reaches.

        ``row`` needs only ``id``, ``key`` and ``created_at`` (a region's identity): the regions'
        shapes are read only for pairs not answered yet in this process (:func:`cached_reach`),
        so a request does not load every sensitive zone's cells each time. ``zones``: the
        sensitive regions' identities when already read (:func:`_zones_of`)."""
        out, full = [], None
        for z in conn.execute(_SENSITIVE_ZONES).all() if zones is None else zones:
            got = cached_reach(row, z)
            if got is None:
                if full is None:
                    full = conn.execute(_REGION_BY_ID, {"rid": row.id}).one()
                got = reaches(full, conn.execute(_REGION_BY_ID, {"rid": z.id}).one())
            if got:
                out.append(z.key)
        return out

    def _region_out(self, conn: Connection, row: Any) -> dict[str, Any]:
        return _region_dict(row) | {"sensitive_zones_reached": self.zones_reached(conn, row)}

    # ----------------------------------------------------------------- policy

    def set_state(self, who: Principal, region: str, active: bool, reason: str, valid_from: str | None = None, valid_to: str | None = None,
                  backdate: bool = False) -> dict[str, Any]:
        """An operator's direct policy change, from ``valid_from`` (default now) to ``valid_to``.

        Refused when it reaches a sensitive zone (file a request instead), and when it starts in
        the past unless ``backdate`` (recorded)."""
        require(who, "policy.write")
        if not isinstance(active, bool):
            raise InputError("active must be true or false")
        check_text(reason, "reason", 4000)
        a, b = check_interval(valid_from, valid_to, _now_ns(), backdate)
        with self._write() as conn:
            row = self._region_row(conn, who, region, full=False)
            zones = self.zones_reached(conn, row, _zones_of(row))
            if zones:
                raise ConflictError(f"region {region!r} shares cells with the sensitive zone(s) {', '.join(zones)}: a change needs a request "
                                    f"approved by two different operators (`leonet request file {region} ...`)")
            sid = self._add_state(conn, who.name, row, active, a, b, reason, None, bool(backdate))
        with read_tx(self.engine) as conn:  # the answer is read after the commit, outside the writers' queue
            return self._state(conn, who, sid)

    def _add_state(self, conn: Connection, actor: str, region_row: Any, active: bool, a: int | None, b: int | None, reason: str,
                   request_id: int | None, backdated: bool) -> int:
        s = insert_row(conn, policy_states, region_id=region_row.id, active=active, valid_from=a, valid_to=b, reason=reason, request_id=request_id,
                       backdated=backdated, created_by=actor, created_at=audit.utc_now())
        audit.append(conn, actor, "policy.change", "policy_state", s.id, {"region": region_row.key, "active": active, "valid_from": _iso(a),
                     "valid_to": _iso(b), "request_id": request_id, "backdated": backdated}, [("policy_states", s)])
        return int(s.id)

    def _state(self, conn: Connection, who: Principal, sid: int) -> dict[str, Any]:
        row = conn.execute(self._states_query().where(policy_states.c.id == sid)).one()
        return _state_dict(row, who)

    @staticmethod
    def _states_query() -> Any:
        return (select(policy_states, regions.c.key, requests.c.filed_by.label("request_filed_by"))
                .join(regions, regions.c.id == policy_states.c.region_id)
                .outerjoin(requests, requests.c.id == policy_states.c.request_id).order_by(policy_states.c.id))

    def list_states(self, who: Principal, region: str | None = None) -> list[dict[str, Any]]:
        """Every activation state (with its validity interval), oldest first; later ones win.

        A partner sees the states of its regions but the reason, author and request only of
        those that come from its own requests (others' are None)."""
        require(who, "policy.read")
        with read_tx(self.engine) as conn:
            q = self._states_query()
            if region is not None:
                q = q.where(regions.c.id == self._region_row(conn, who, region, full=False).id)
            return [_state_dict(r, who) for r in conn.execute(q) if who.sees_region(r.key)]

    def policy_at(self, who: Principal, at: str | None = None) -> dict[str, Any]:
        """The state in force in each visible region at ``at`` (default now); None = no state set."""
        require(who, "policy.read")
        t = check_time(at or "now", "at")
        assert t is not None
        states = self.list_states(who)
        in_force: dict[str, dict[str, Any]] = {}
        for s in states:  # oldest first, so the last covering state wins
            if (s["_from"] is None or s["_from"] <= t) and (s["_to"] is None or t < s["_to"]):
                in_force[s["region"]] = s
        out = []
        for r in self.list_regions(who):
            s = in_force.get(r["key"])
            out.append({"region": r["key"], "name": r["name"], "sensitive": r["sensitive"] or bool(r["sensitive_zones_reached"]),
                        "active": None if s is None else s["active"], "state_id": None if s is None else s["id"]})
        return {"at": _iso(t), "regions": out}

    # ----------------------------------------------------------------- requests

    def file_request(self, who: Principal, region: str, action: str, justification: str, on_behalf_of: str | None = None,
                     valid_from: str | None = None, valid_to: str | None = None, backdate: bool = False) -> dict[str, Any]:
        require(who, "requests.file")
        if action not in ACTIONS:
            raise InputError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
        check_text(justification, "justification", 4000)
        check_text(on_behalf_of, "on_behalf_of", 200, required=False)
        a, b = check_interval(valid_from, valid_to, _now_ns(), backdate)
        with self._write() as conn:
            row = self._region_row(conn, who, region, full=False)
            now = audit.utc_now()
            r = insert_row(conn, requests, region_id=row.id, action=action, justification=justification, filed_by=who.name, party=who.party,
                           on_behalf_of=on_behalf_of, valid_from=a, valid_to=b, state="pending", backdated=bool(backdate), created_at=now, updated_at=now)
            audit.append(conn, who.name, "request.file", "request", r.id, {"region": row.key, "action": action, "valid_from": _iso(a),
                         "valid_to": _iso(b), "backdated": bool(backdate)}, [("requests", r)])
            # The answer is built from what this transaction wrote (no second read): returned
            # once the commit holding it succeeded.
            zones = self.zones_reached(conn, row, _zones_of(row))
            return _request_dict(r, row.key, [], None, zones)

    def list_requests(self, who: Principal, state: str | None = None, region: str | None = None) -> list[dict[str, Any]]:
        """Requests, oldest first; a partner sees only its own."""
        require(who, "requests.read")
        if state is not None and state not in STATES:
            raise InputError(f"state {state!r} is not one of {', '.join(STATES)}")
        with read_tx(self.engine) as conn:
            q = select(requests.c.id).order_by(requests.c.id)
            if state is not None:
                q = q.where(requests.c.state == state)
            if region is not None:
                q = q.where(requests.c.region_id == self._region_row(conn, who, region, full=False).id)
            if who.role == "partner":
                q = q.where(requests.c.filed_by == who.name)
            return [self._request(conn, who, rid) for rid in conn.execute(q).scalars()]

    def get_request(self, who: Principal, request_id: int) -> dict[str, Any]:
        require(who, "requests.read")
        with read_one(self.engine) as conn:  # one statement (see _REQUEST_BY_ID)
            return self._request(conn, who, request_id)

    def _request_row(self, conn: Connection, who: Principal, request_id: int) -> tuple[Any, list[_Decision]]:
        """The request with its region's key and identity (``region_created_at``), its policy
        state (``sid``) and the sensitive zones (``zone_refs``); and its decisions, oldest first."""
        if isinstance(request_id, bool) or not isinstance(request_id, int) or not 0 < request_id < 2**31:
            raise InputError(f"request id {request_id!r} must be a positive integer below 2^31")
        rows = conn.execute(_REQUEST_BY_ID, {"rid": request_id}).all()
        row = rows[0] if rows else None
        if row is None or (who.role == "partner" and row.filed_by != who.name):
            raise NotFoundError(f"no request {request_id}" + ("" if who.role == "partner" else "; list them with `leonet request list`"))
        return row, [_Decision(r.d_by, r.d_decision, r.d_reason, r.d_at) for r in rows if r.d_id is not None]

    def _region_ref(self, row: Any) -> _RegionRef:
        """The identity of a request row's region (enough for :meth:`zones_reached`)."""
        return _RegionRef(row.region_id, row.key, row.region_created_at)

    def _request(self, conn: Connection, who: Principal, request_id: int) -> dict[str, Any]:
        row, ds = self._request_row(conn, who, request_id)
        return _request_dict(row, row.key, ds, row.sid, self.zones_reached(conn, self._region_ref(row), _zones_of(row)))

    def decide(self, who: Principal, request_id: int, decision: str, reason: str) -> dict[str, Any]:
        """Approve, reject (operators) or withdraw (the filer) a pending request."""
        if decision not in ("approve", "reject", "withdraw"):
            raise InputError(f"decision {decision!r} is not one of approve, reject, withdraw")
        require(who, "requests.withdraw" if decision == "withdraw" else "requests.decide")
        check_text(reason, "reason", 4000)
        with self._write() as conn:
            row, ds = self._request_row(conn, who, request_id)
            if row.state != "pending":
                raise ConflictError(f"request {row.id} is already {row.state}; only pending requests can be decided or withdrawn")
            if decision == "withdraw" and row.filed_by != who.name:
                raise ForbiddenError(f"only the filer ({row.filed_by}) may withdraw request {row.id}; operators reject instead")
            if decision == "approve" and row.filed_by == who.name:
                raise ForbiddenError(f"{who.name!r} filed request {row.id} and so cannot approve it; another operator must")
            if decision == "approve" and not who.confirmed:
                raise ForbiddenError(f"{who.name!r}'s credential or role was granted by an admin and not yet confirmed by a second admin; "
                                     f"approvals need it (`leonet user confirm {who.name}` by another admin)")
            prior = [x.decided_by for x in ds if x.decision == "approve"]
            region = self._region_ref(row)
            zones = self.zones_reached(conn, region, _zones_of(row))
            needed = approvals_needed(zones)
            if decision == "approve" and who.name in prior:
                raise ConflictError(f"{who.name!r} already approved request {row.id}; it reaches the sensitive zone(s) {', '.join(zones)} and needs a second, different operator")
            now = audit.utc_now()
            d = insert_row(conn, decisions, request_id=row.id, decided_by=who.name, decision=decision, reason=reason, created_at=now)
            new_state = {"reject": "rejected", "withdraw": "withdrawn"}.get(decision, "approved" if len(prior) + 1 >= needed else "pending")
            changed: list[tuple[str, Any]] = [("decisions", d)]
            out_row = row
            if new_state != "pending":
                out_row = update_row(conn, requests, int(row.id), state=new_state, updated_at=now)
                changed.append(("requests", out_row))
            audit.append(conn, who.name, f"request.{decision}", "request", row.id, {"state": new_state, "approvals": len(prior) + (decision == "approve"),
                         "needed": needed, "zones": zones}, changed)
            sid = row.sid
            if new_state == "approved":
                a = row.valid_from
                if not row.backdated:  # a start that passed while the request waited begins at approval
                    a = max(a, _now_ns()) if a is not None else _now_ns()
                b = row.valid_to
                if b is not None and a is not None and b <= a:
                    raise ConflictError(f"request {row.id}'s validity ended ({_iso(b)}) before it was approved; file a new request")
                # The reason names the request only: its justification stays with the filer and the operators.
                sid = self._add_state(conn, who.name, region, row.action == "activate", a, b, f"request {row.id} approved", int(row.id), bool(row.backdated))
            # Built from this transaction's rows; returned once the commit holding them succeeded.
            return _request_dict(out_row, row.key, [*ds, d], sid, zones)

    # ----------------------------------------------------------------- audit

    def _record_read(self, who: Principal, what: str, **detail: Any) -> None:
        with self._write() as conn:
            audit.append(conn, who.name, "audit.read", "audit", what, detail)

    def audit_entries(self, who: Principal, after: int = 0, limit: int = 1000, record: bool = True) -> list[dict[str, Any]]:
        """Entries after ``after``; the read itself is recorded in the log (``record``)."""
        require(who, "audit.read")
        if record:
            self._record_read(who, "entries", after=after, limit=limit)
        with read_tx(self.engine) as conn:
            return [audit.entry_dict(r) for r in audit.iter_entries(conn, after, limit)]

    def audit_head(self, who: Principal) -> dict[str, Any]:
        """The chain head (for a signed checkpoint); the read is recorded after it."""
        require(who, "audit.read")
        with read_tx(self.engine) as conn:
            h = conn.execute(select(audit_head)).one()
        self._record_read(who, "head", seq=int(h.seq))
        return {"seq": int(h.seq), "hash": h.hash, "store_id": h.store_id}

    def audit_verify(self, who: Principal | None, expect_head: str | None = None, signer: str | None = None) -> audit.VerifyResult:
        """Verify the chain and replay it against the tables; ``who=None`` is the database holder
        (``leonet audit verify --db`` without a token: nothing is recorded). ``signer``: the
        writers' public key (64 hex digits): every entry since the first it signed must carry its signature."""
        if who is not None:
            require(who, "audit.read")
        if expect_head is not None:
            check_text(expect_head, "expect_head", 64)
        pub = None
        if signer is not None:
            from leonet.control.checkpoint import load_public

            if not isinstance(signer, str) or len(signer) != 64:
                raise InputError("signer must be the writers' public key: 64 hex digits (`leonet audit keygen` prints it)")
            pub = load_public(signer)
        with read_tx(self.engine) as conn:
            res = audit.verify(conn, expect_head, pub)
        if who is not None:
            self._record_read(who, "verify", ok=res.ok, head_seq=res.head_seq)
        return res


# ---------------------------------------------------------------------------- helpers


def _check_geometry(geometry: Any) -> dict[str, Any]:
    import shapely
    import shapely.geometry

    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise InputError("geometry must be a GeoJSON object of type Polygon or MultiPolygon")
    try:
        shape = shapely.geometry.shape(geometry)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise InputError(f"geometry is not a readable GeoJSON polygon ({exc}); give rings of [lon, lat] pairs") from None
    if shape.is_empty or not shape.is_valid or shape.area <= 0:
        raise InputError(f"geometry is empty or invalid ({shapely.is_valid_reason(shape)}); give closed, non-self-intersecting rings")
    x0, y0, x1, y1 = shape.bounds
    if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
        raise InputError("geometry is outside lon [-180, 180] / lat [-90, 90]; give degrees")
    return shapely.geometry.mapping(shape) | {}


def _check_cells(cells: Any, h3_res: Any) -> tuple[list[str], int]:
    import h3

    if not isinstance(cells, list) or not cells:
        raise InputError("cells must be a non-empty list of H3 cell ids in hex, e.g. '85283473fffffff'")
    if len(cells) > MAX_CELLS:
        raise InputError(f"{len(cells)} cells given; at most {MAX_CELLS} are allowed (use a polygon region instead)")
    out = set()
    for c in cells:
        if not isinstance(c, str) or len(c) > 16 or not h3.is_valid_cell(c):
            raise InputError(f"{c!r} is not an H3 cell id (15-16 hex digits, e.g. '85283473fffffff')")
        out.add(c.lower())
    res = {h3.get_resolution(c) for c in out}
    if len(res) != 1:
        raise InputError(f"cells mix H3 resolutions {sorted(res)}; give cells of one resolution")
    got = res.pop()
    if h3_res is not None and h3_res != got:
        raise InputError(f"h3_res {h3_res} does not match the cells' resolution {got}")
    return sorted(out), got


def _region_dict(r: Any) -> dict[str, Any]:
    return {"key": r.key, "kind": r.kind, "name": r.name, "country": r.country, "geometry": json.loads(r.geometry) if r.geometry else None,
            "cells": json.loads(r.cells) if r.cells else None, "h3_res": r.h3_res, "sensitive": bool(r.sensitive), "created_by": r.created_by, "created_at": r.created_at}


def _state_dict(r: Any, who: Principal) -> dict[str, Any]:
    # "_from"/"_to" (ns) serve policy_at; the API drops keys starting with "_". A partner sees
    # the why and who of a state only when it comes from its own request.
    private = who.role == "partner" and r.request_filed_by != who.name
    return {"id": r.id, "region": r.key, "active": bool(r.active), "valid_from": _iso(r.valid_from), "valid_to": _iso(r.valid_to),
            "reason": None if private else r.reason, "request_id": None if private else r.request_id, "backdated": bool(r.backdated),
            "created_by": None if private else r.created_by, "created_at": r.created_at, "_from": r.valid_from, "_to": r.valid_to}


def _request_dict(row: Any, region_key: str, ds: list[Any], sid: int | None, zones: list[str]) -> dict[str, Any]:
    return {"id": row.id, "region": region_key, "action": row.action, "justification": row.justification, "filed_by": row.filed_by, "party": row.party,
            "on_behalf_of": row.on_behalf_of, "valid_from": _iso(row.valid_from), "valid_to": _iso(row.valid_to), "backdated": bool(row.backdated),
            "state": row.state, "approvals_needed": approvals_needed(zones), "sensitive_zones_reached": zones, "decisions": [_decision_dict(d) for d in ds],
            "policy_state_id": sid, "created_at": row.created_at, "updated_at": row.updated_at}


def _decision_dict(d: Any) -> dict[str, Any]:
    return {"decided_by": d.decided_by, "decision": d.decision, "reason": d.reason, "created_at": d.created_at}


WRITERS_KEY_ENV = "LEONET_AUDIT_KEY"


def writers_key(path: str | None = None) -> Any:
    """The writers' signing key from ``path`` or ``$LEONET_AUDIT_KEY`` (None when neither is set)."""
    import os

    from leonet.control.checkpoint import load_private

    path = path or os.environ.get(WRITERS_KEY_ENV) or None
    return load_private(path) if path else None


def init_store(db_url: str, admins: tuple[str, ...] | list[str] = ("admin",)) -> dict[str, str]:
    """Create (or upgrade) the schema at ``db_url`` and its first admins; their tokens by name.

    Two or more admins are needed for anyone to approve a request: a second admin confirms
    each credential that an admin grants (see :mod:`leonet.control.accounts`)."""
    from leonet.control.db import make_engine
    from leonet.control.migrations_api import upgrade

    engine = make_engine(db_url, must_exist=False)
    try:
        upgrade(engine)
        return ControlService(engine, writers_key()).bootstrap_admins(list(admins))
    finally:
        engine.dispose()


__all__ = ["ControlService", "init_store", "Principal", "PERMISSIONS", "ROLES", "require"]
