"""Control-plane commands: ``db``, ``serve``, ``user``, ``policy``, ``request``, ``audit``.

Client commands take ``--server URL --token T`` (a running ``leonet serve``) or ``--db URL
--token T`` (the database itself); ``$LEONET_SERVER``, ``$LEONET_DB`` and ``$LEONET_TOKEN``
stand in for the options.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from leonet.cli.common import err_console, handle_errors, out_console, say
from leonet.errors import InputError

DEFAULT_PORT = 8600


def _client_options(f: Callable) -> Callable:
    f = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)
    f = click.option("--token", envvar="LEONET_TOKEN", help="Your token (or $LEONET_TOKEN).")(f)
    f = click.option("--db", "db", envvar="LEONET_DB", help="Work on this database directly: sqlite:///file.db or postgresql://... (or $LEONET_DB).")(f)
    f = click.option("--server", envvar="LEONET_SERVER", help="A running `leonet serve`, e.g. http://127.0.0.1:8600 (or $LEONET_SERVER).")(f)
    return f


def _call(server: str | None, db: str | None, token: str | None, op: str, token_optional: bool = False, **kw: Any) -> Any:
    from leonet.control.client import connect

    client = connect(server, db, token, token_optional)
    try:
        return client.call(op, **kw)
    finally:
        client.close()


def _show(data: Any, as_json: bool, columns: Iterable[str] | None = None, title: str | None = None) -> None:
    """A list of records as a table (or JSON); anything else as JSON."""
    if as_json or columns is None or not isinstance(data, list):
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    cols = list(columns)
    t = Table(title=title, title_justify="left")
    for c in cols:
        t.add_column(c)
    for rec in data:
        t.add_row(*("" if rec.get(c) is None else (", ".join(map(str, rec[c])) if isinstance(rec.get(c), list) else str(rec[c])) for c in cols))
    out_console.print(t)
    if not data:
        err_console.print("(none)")


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [p.strip() for p in text.split(",") if p.strip()]


# ------------------------------------------------------------------------------- db, serve


@click.group()
def db() -> None:
    """Create or upgrade a control-plane database."""


@db.command("init")
@click.option("--db", "url", required=True, envvar="LEONET_DB", help="sqlite:///path/control.db (created) or postgresql://user:pw@127.0.0.1:5432/name.")
@click.option("--admin", "admin", default="admin", show_default=True, help="Name of the first admin user.")
@handle_errors
def db_init(url: str, admin: str) -> None:
    """Create the schema and the first admin; prints the admin's token, once (only its hash is kept)."""
    from leonet.control.service import init_store

    token = init_store(url, admin)
    err_console.print(f"created the control database and admin user {admin!r}; its token (shown only now, keep it safe):")
    click.echo(token)


@db.command("upgrade")
@click.option("--db", "url", required=True, envvar="LEONET_DB", help="Database URL.")
@handle_errors
def db_upgrade(url: str) -> None:
    """Apply leonet's newer schema migrations to an existing database."""
    from leonet.control.db import make_engine
    from leonet.control.migrations_api import current_revision, head_revision, upgrade

    engine = make_engine(url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        err_console.print(f"schema at revision {head_revision()} (was {before})")
    finally:
        engine.dispose()


@click.command()
@click.option("--db", "url", required=True, envvar="LEONET_DB", help="Database URL (initialised with `leonet db init`).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535))
@handle_errors
def serve(url: str, host: str, port: int) -> None:
    """Serve the control-plane REST API (OpenAPI spec at /openapi.json, docs at /docs)."""
    import uvicorn

    from leonet.control.api import create_app

    app = create_app(url)
    err_console.print(f"leonet control plane on http://{host}:{port} (spec at /openapi.json)", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)


# ------------------------------------------------------------------------------- users


@click.group()
def user() -> None:
    """Users, roles (admin, operator, partner, auditor), entitlements and tokens (admin)."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["admin", "operator", "partner", "auditor"]))
@click.option("--party", default="", help="Organisation the user acts for, e.g. 'Ministry of X'.")
@click.option("--entitle", help="Region keys a partner may see and file for, comma-separated.")
@_client_options
@handle_errors
def user_add(name: str, role: str, party: str, entitle: str | None, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Create a user; prints its token once."""
    out = _call(server, db, token, "create_user", name=name, role=role, party=party, entitlements=_split(entitle) or [])
    if as_json:
        _show(out, True)
        return
    err_console.print(f"created {out['role']} {out['name']!r}; token (shown only now):")
    click.echo(out["token"])


@user.command("list")
@_client_options
@handle_errors
def user_list(server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """All users (admin, auditor)."""
    _show(_call(server, db, token, "list_users"), as_json, ["name", "role", "party", "entitlements", "active", "created_at"])


@user.command("set")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "operator", "partner", "auditor"]))
@click.option("--party")
@click.option("--entitle", help="Replace the entitled region keys (comma-separated; '' for none).")
@click.option("--active/--inactive", default=None, help="Enable or disable the user.")
@_client_options
@handle_errors
def user_set(name: str, role: str | None, party: str | None, entitle: str | None, active: bool | None, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Change a user's role, party, entitlements or active flag."""
    _show(_call(server, db, token, "update_user", name=name, role=role, party=party, entitlements=_split(entitle), active=active), True)


@user.command("token")
@click.argument("name")
@_client_options
@handle_errors
def user_token(name: str, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Issue a fresh token for NAME (its previous tokens stop working); printed once."""
    out = _call(server, db, token, "issue_token", name=name)
    click.echo(json.dumps(out) if as_json else out["token"])


# ------------------------------------------------------------------------------- policy


@click.group()
def policy() -> None:
    """Regions and the activation states in force."""


@policy.command("regions")
@_client_options
@handle_errors
def policy_regions(server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Regions you may see."""
    _show(_call(server, db, token, "list_regions"), as_json, ["key", "kind", "name", "country", "h3_res", "sensitive", "created_by"])


@policy.command("add-region")
@click.argument("key")
@click.option("--country", help="ISO 3166-1 code or name: a country region.")
@click.option("--geojson", type=click.Path(exists=True, dir_okay=False), help="File with a GeoJSON Polygon/MultiPolygon (or a Feature of one).")
@click.option("--cells", "cells_file", type=click.Path(exists=True, dir_okay=False), help="File of H3 cell ids (hex), one per line.")
@click.option("--name", help="Display name.")
@click.option("--sensitive", is_flag=True, help="Changes need two different operators' approvals.")
@_client_options
@handle_errors
def policy_add_region(key: str, country: str | None, geojson: str | None, cells_file: str | None, name: str | None, sensitive: bool,
                      server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Create a region (operator): --country, --geojson or --cells."""
    if sum(x is not None for x in (country, geojson, cells_file)) != 1:
        raise InputError("give exactly one of --country CODE, --geojson FILE or --cells FILE")
    body: dict[str, Any] = {"key": key, "name": name, "sensitive": sensitive}
    if country is not None:
        body |= {"kind": "country", "country": country}
    elif geojson is not None:
        try:
            geo = json.loads(Path(geojson).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise InputError(f"{geojson} is not JSON ({exc}); give a GeoJSON Polygon or MultiPolygon") from None
        body |= {"kind": "polygon", "geometry": geo.get("geometry", geo) if isinstance(geo, dict) and geo.get("type") == "Feature" else geo}
    else:
        try:
            text = Path(cells_file or "").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {cells_file} as a text file of H3 cell ids, one per line ({exc})") from None
        ids = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
        body |= {"kind": "cells", "cells": ids}
    _show(_call(server, db, token, "create_region", **body), True)


@policy.command("show")
@click.option("--at", help="ISO-8601 instant (default now).")
@_client_options
@handle_errors
def policy_show(at: str | None, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """The activation state in force in each region at an instant ('-': no state set)."""
    out = _call(server, db, token, "policy_at", at=at)
    if as_json:
        _show(out, True)
        return
    rows = [r | {"active": "-" if r["active"] is None else ("active" if r["active"] else "inactive")} for r in out["regions"]]
    _show(rows, False, ["region", "name", "sensitive", "active", "state_id"], title=f"policy in force at {out['at']}")


@policy.command("states")
@click.option("--region", help="Only this region.")
@_client_options
@handle_errors
def policy_states(region: str | None, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Every activation state with its validity interval, oldest first (later ones win)."""
    _show(_call(server, db, token, "list_states", region=region), as_json, ["id", "region", "active", "valid_from", "valid_to", "request_id", "created_by", "reason"])


@policy.command("set")
@click.argument("region")
@click.option("--activate/--deactivate", "active", required=True, help="The state to set.")
@click.option("--reason", required=True, help="Why (recorded in the audit log).")
@click.option("--from", "valid_from", help="Start of validity, ISO-8601 (default: always).")
@click.option("--to", "valid_to", help="End of validity, excluded (default: open).")
@_client_options
@handle_errors
def policy_set(region: str, active: bool, reason: str, valid_from: str | None, valid_to: str | None, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Set REGION's state directly (operator; sensitive regions need an approved request)."""
    _show(_call(server, db, token, "set_state", region=region, active=active, reason=reason, valid_from=valid_from, valid_to=valid_to), True)


# ------------------------------------------------------------------------------- requests


@click.group()
def request() -> None:
    """Activation requests: file, list, approve, reject, withdraw."""


_REQ_COLS = ["id", "region", "action", "state", "filed_by", "party", "on_behalf_of", "valid_from", "valid_to", "approvals_needed", "policy_state_id"]


@request.command("file")
@click.argument("region")
@click.option("--action", required=True, type=click.Choice(["activate", "deactivate"]))
@click.option("--justification", required=True, help="Why the change is asked for.")
@click.option("--on-behalf-of", help="The party the request is filed for.")
@click.option("--from", "valid_from", help="Start of validity, ISO-8601.")
@click.option("--to", "valid_to", help="End of validity, excluded.")
@_client_options
@handle_errors
def request_file(region: str, action: str, justification: str, on_behalf_of: str | None, valid_from: str | None, valid_to: str | None,
                 server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """File a request for REGION (partner, operator)."""
    _show(_call(server, db, token, "file_request", region=region, action=action, justification=justification, on_behalf_of=on_behalf_of,
                valid_from=valid_from, valid_to=valid_to), True)


@request.command("list")
@click.option("--state", type=click.Choice(["pending", "approved", "rejected", "withdrawn"]))
@click.option("--region")
@_client_options
@handle_errors
def request_list(state: str | None, region: str | None, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Requests (a partner sees its own)."""
    _show(_call(server, db, token, "list_requests", state=state, region=region), as_json, _REQ_COLS)


@request.command("show")
@click.argument("request_id", type=click.IntRange(1))
@_client_options
@handle_errors
def request_show(request_id: int, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """One request with its decisions."""
    _show(_call(server, db, token, "get_request", request_id=request_id), True)


def _decision_command(decision: str, doc: str) -> click.Command:
    @click.argument("request_id", type=click.IntRange(1))
    @click.option("--reason", required=True, help="Why (recorded with the decision).")
    @_client_options
    @handle_errors
    def cmd(request_id: int, reason: str, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
        _show(_call(server, db, token, "decide", request_id=request_id, decision=decision, reason=reason), True)

    cmd.__doc__ = doc
    return click.command(decision)(cmd)


request.add_command(_decision_command("approve", "Approve a pending request (operator; not your own; sensitive regions need two operators)."))
request.add_command(_decision_command("reject", "Reject a pending request (operator)."))
request.add_command(_decision_command("withdraw", "Withdraw a pending request you filed."))


# ------------------------------------------------------------------------------- audit


@click.group()
def audit() -> None:
    """The hash-chained audit log: verify, export, list (auditor)."""


@audit.command("verify")
@click.option("--expect-head", help="Head hash recorded earlier elsewhere: also detects a rewritten log.")
@_client_options
@handle_errors
def audit_verify(expect_head: str | None, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Check the chain; names the first bad entry and exits 1 if it is broken.
    With --db no token is needed (whoever holds the database may check it)."""
    out = _call(server, db, token, "audit_verify", token_optional=True, expect_head=expect_head)
    if as_json:
        _show(out, True)
    elif out["ok"]:
        out_console.print(f"audit chain intact: {out['entries']} entries, head {out['head_seq']} hash {out['head_hash']}", highlight=False)
    else:
        say(("audit chain broken", "bold red"), f" at entry {out['first_bad']}: {out['problem']}")
    if not out["ok"]:
        raise SystemExit(1)


@audit.command("export")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="JSON Lines file to write ('-' for stdout).")
@_client_options
@handle_errors
def audit_export(output: str, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Export the whole log as JSON Lines (one entry per line, in chain order)."""
    from leonet.control.client import connect

    client = connect(server, db, token)
    try:
        if output == "-":
            for line in client.export_lines():
                click.echo(line)
            return
        # Written beside the target and renamed: never a partial export under the real name.
        target = Path(output)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent if str(target.parent) else ".")
        n = 0
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                for line in client.export_lines():
                    fh.write(line + "\n")
                    n += 1
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        err_console.print(f"wrote {n} entries to {output}")
    finally:
        client.close()


@audit.command("list")
@click.option("--after", type=click.IntRange(0), default=0, show_default=True, help="Entries after this number.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@_client_options
@handle_errors
def audit_list(after: int, limit: int, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Audit entries in chain order."""
    _show(_call(server, db, token, "audit_entries", after=after, limit=limit), as_json, ["seq", "at", "actor", "action", "object_type", "object_id"])


def register_control(group: click.Group) -> None:
    """Add the control-plane commands to the ``leonet`` group."""
    for cmd in (db, serve, user, policy, request, audit):
        group.add_command(cmd)
