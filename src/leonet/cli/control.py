"""Control-plane commands: ``db``, ``serve``, ``user``, ``policy``, ``request``, ``audit``.

Client commands take ``--server URL`` (a running ``leonet serve``) or ``--db URL`` (the
database itself), and the caller's token from ``$LEONET_TOKEN`` or ``--token-file FILE`` (a
token on the command line would land in shell history and process lists); ``$LEONET_SERVER``
and ``$LEONET_DB`` stand in for the options.
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


def _name(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """The control plane's one name validator, applied before anything is sent."""
    from leonet.control.validate import check_key

    if value is None:
        return None
    try:
        return check_key(value, "name")
    except InputError as exc:
        raise click.BadParameter(str(exc)) from None


def _read_secret(path: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path} ({exc}); give a file holding only the token or code") from None
    if not text or len(text.splitlines()) != 1:
        raise InputError(f"{path} must hold exactly one token or code on one line")
    return text


def _token_opt(f: Callable) -> Callable:
    def cb(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        return _read_secret(value) if value else None

    f = click.option("--token-file", "token_file", callback=cb, expose_value=True, type=click.Path(dir_okay=False),
                     help="File holding your token (default: $LEONET_TOKEN).")(f)
    f = click.option("--token", envvar="LEONET_TOKEN", hidden=True, help="Your token; prefer $LEONET_TOKEN or --token-file.")(f)
    return f


def _client_options(f: Callable) -> Callable:
    import functools

    inner = f

    @functools.wraps(inner)
    def wrapper(*args: Any, token_file: str | None = None, **kw: Any) -> Any:
        if token_file:
            kw["token"] = token_file
        return inner(*args, **kw)

    f = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(wrapper)
    f = _token_opt(f)
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
@click.option("--admin", "admins", multiple=True, callback=lambda c, p, v: tuple(_name(c, p, x) for x in v) or ("admin",),
              help="Name of a first admin (repeat for more; default 'admin'). Approvals need two admins: one grants, another confirms.")
@handle_errors
def db_init(url: str, admins: tuple[str, ...]) -> None:
    """Create the schema and the first admins; prints each admin's token once, one a line
    (only hashes are kept). Each admin should then rotate it: `leonet user rotate`."""
    from leonet.control.service import init_store

    tokens = init_store(url, admins)
    err_console.print(f"created the control database and admin user(s) {', '.join(tokens)}; their tokens follow, one a line, in that order "
                      "(shown only now; hand each to its admin, who rotates it with `leonet user rotate`):")
    for t in tokens.values():
        click.echo(t)


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
@click.option("--max-body", "max_body", default="8MiB", show_default=True, help="Largest request body, e.g. 8MiB, 512KiB (413 above it).")
@click.option("--client-rate", default="100/s:200", show_default=True, help="Requests per client address (rate:burst); 429 beyond.")
@click.option("--token-rate", default="50/s:100", show_default=True, help="Requests per token (rate:burst); 429 beyond.")
@click.option("--failure-rate", default="1/s:20", show_default=True, help="Failed logins per client before it is locked out (rate:burst).")
@click.option("--failure-window", default=60.0, show_default=True, type=click.FloatRange(1, 3600), help="Seconds per audit summary of failed logins.")
@click.option("--trusted-proxy", "trusted", multiple=True, help="Address or network of a reverse proxy whose X-Forwarded-For is believed (repeatable; default none).")
@click.option("--checkpoint-key", type=click.Path(dir_okay=False), help="Ed25519 key (outside the database) to sign periodic checkpoints.")
@click.option("--checkpoint-file", type=click.Path(dir_okay=False), help="JSON Lines file the periodic checkpoints are appended to.")
@click.option("--checkpoint-every", default=300.0, show_default=True, type=click.FloatRange(1, 86400), help="Seconds between periodic checkpoints.")
@click.option("--audit-key", envvar="LEONET_AUDIT_KEY", type=click.Path(dir_okay=False), help="Ed25519 key (outside the database) signing every audit entry written (or $LEONET_AUDIT_KEY).")
@click.option("--elements", "elements", multiple=True, metavar="FILE|URL|preset:NAME",
              help="Element sets the dashboard shows (repeatable; files, URLs, celestrak:GROUP, preset:NAME).")
@click.option("--results-root", type=click.Path(file_okay=False), help="Folder holding scenario output folders the dashboard may browse (nothing outside it).")
@handle_errors
def serve(url: str, host: str, port: int, max_body: str, client_rate: str, token_rate: str, failure_rate: str, failure_window: float,
          trusted: tuple[str, ...], checkpoint_key: str | None, checkpoint_file: str | None, checkpoint_every: float, audit_key: str | None,
          elements: tuple[str, ...], results_root: str | None) -> None:
    """Serve the dashboard at / and the control-plane REST API (OpenAPI spec at /openapi.json, docs at /docs)."""
    import ipaddress

    import uvicorn

    from leonet.control.api import ServerSettings
    from leonet.control.limits import Rate
    from leonet.web.app import create_dashboard_app

    for t in trusted:
        try:
            ipaddress.ip_network(t, strict=False)
        except ValueError:
            raise InputError(f"--trusted-proxy {t!r} is not an address or network such as 10.0.0.5 or 10.0.0.0/24") from None
    if bool(checkpoint_key) != bool(checkpoint_file):
        raise InputError("give both --checkpoint-key KEY and --checkpoint-file FILE for periodic checkpoints, or neither")
    settings = ServerSettings(max_body_bytes=_bytes(max_body), client_rate=Rate.parse(client_rate), token_rate=Rate.parse(token_rate),
                              failure_rate=Rate.parse(failure_rate), failure_window_s=failure_window, trusted_proxies=trusted)
    from leonet.control.service import writers_key

    if elements:
        say(f"loading {', '.join(elements)} ...")
    app = create_dashboard_app(url, settings, writers_key(audit_key), elements, results_root, checkpoint_file)
    if checkpoint_key and checkpoint_file:
        from leonet.control import checkpoint

        key = checkpoint.load_private(checkpoint_key)
        _periodic_checkpoints(app.state.service, key, checkpoint_file, checkpoint_every)
    shown = f"{len(app.state.twin.c):,} satellites" if app.state.twin.c is not None else "no satellites (give --elements)"
    err_console.print(f"leonet dashboard on http://{host}:{port}/ ({shown}); control plane API spec at /openapi.json", highlight=False)
    # proxy_headers=False: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1.
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5, proxy_headers=False, server_header=False)


def _bytes(text: str) -> int:
    units = {"": 1, "b": 1, "kb": 1000, "kib": 1024, "mb": 10**6, "mib": 2**20}
    t = text.strip().lower()
    num = t.rstrip("abcdefghijklmnopqrstuvwxyz")
    if not num or t[len(num):] not in units:
        raise InputError(f"--max-body {text!r} is not a size such as 8MiB, 512KiB or 1000000")
    n = int(float(num) * units[t[len(num):]])
    if n < 1024:
        raise InputError(f"--max-body {text!r} is under 1 KiB; requests would not fit")
    return n


def _periodic_checkpoints(service: Any, key: Any, path: str, every_s: float) -> None:
    """A daemon thread that signs the chain head into ``path`` every ``every_s`` when it moved."""
    import threading

    from leonet.control import checkpoint
    from leonet.control.db import audit_head, read_tx

    def run() -> None:
        last = None
        while True:
            with read_tx(service.engine) as conn:
                h = conn.execute(audit_head.select()).one()
            if h.seq != last:
                checkpoint.append(path, checkpoint.sign({"seq": h.seq, "hash": h.hash, "store_id": h.store_id}, key))
                last = h.seq
            threading.Event().wait(every_s)

    threading.Thread(target=run, name="leonet-checkpoints", daemon=True).start()


# ------------------------------------------------------------------------------- users


@click.group()
def user() -> None:
    """Users, roles (admin, operator, partner, auditor), entitlements and tokens (admin)."""


@user.command("add")
@click.argument("name", callback=_name)
@click.option("--role", required=True, type=click.Choice(["admin", "operator", "partner", "auditor"]))
@click.option("--party", default="", help="Organisation the user acts for, e.g. 'Ministry of X'.")
@click.option("--entitle", help="Region keys a partner may see and file for, comma-separated.")
@_client_options
@handle_errors
def user_add(name: str, role: str, party: str, entitle: str | None, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Create a user; prints its one-time enrolment code (the user trades it for a token)."""
    out = _call(server, db, token, "create_user", name=name, role=role, party=party, entitlements=_split(entitle) or [])
    _show_code(out, as_json)


def _show_code(out: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _show(out, True)
        return
    confirm = (f" To approve requests they also need another admin's `leonet user confirm {out['name']}` after that."
               if out.get("role") in (None, "operator", "admin") else "")
    err_console.print(f"one-time enrolment code for {out['name']!r}, valid until {out['enrolment_expires_at']} (shown only now). Give it to them; "
                      f"they run `leonet user enrol {out['name']}` and get a token no admin sees.{confirm}", highlight=False)
    click.echo(out["enrolment_code"])


@user.command("enrol")
@click.argument("name", callback=_name)
@click.option("--code-file", type=click.Path(dir_okay=False), help="File holding the enrolment code (default: asked for, not echoed).")
@click.option("-o", "--token-out", type=click.Path(dir_okay=False), help="Write the token to this new file (mode 0600) instead of printing it.")
@click.option("--server", envvar="LEONET_SERVER", help="A running `leonet serve` (or $LEONET_SERVER).")
@click.option("--db", "db", envvar="LEONET_DB", help="The database itself (or $LEONET_DB).")
@handle_errors
def user_enrol(name: str, code_file: str | None, token_out: str | None, server: str | None, db: str | None) -> None:
    """Trade the enrolment code an admin gave you for your own token."""
    code = _read_secret(code_file) if code_file else click.prompt("enrolment code", hide_input=True, err=True).strip()
    out = _call(server, db, None, "enrol", token_optional=True, name=name, code=code)
    _emit_token(out, token_out)


def _emit_token(out: dict[str, Any], token_out: str | None) -> None:
    if token_out:
        try:
            fd = os.open(token_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise InputError(f"cannot create {token_out} ({exc.strerror}); give a new file name") from None
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(out["token"] + "\n")
        err_console.print(f"token for {out['name']!r} written to {token_out}, expires {out['token_expires_at']}; use --token-file {token_out}", highlight=False)
        return
    err_console.print(f"token for {out['name']!r} (shown only now), expires {out['token_expires_at']}:", highlight=False)
    click.echo(out["token"])


@user.command("rotate")
@click.option("-o", "--token-out", type=click.Path(dir_okay=False), help="Write the new token to this new file (mode 0600).")
@_client_options
@handle_errors
def user_rotate(token_out: str | None, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Replace your own token with a fresh one (the old one stops working)."""
    _emit_token(_call(server, db, token, "rotate_token"), token_out)


@user.command("whoami")
@_client_options
@handle_errors
def user_whoami(server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Your name, role, confirmation and token expiry."""
    _show(_call(server, db, token, "whoami"), True)


@user.command("confirm")
@click.argument("name", callback=_name)
@_client_options
@handle_errors
def user_confirm(name: str, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Confirm (as a second admin) that NAME holds its current credential: it may approve again."""
    _show(_call(server, db, token, "confirm_user", name=name), True)


@user.command("list")
@_client_options
@handle_errors
def user_list(server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """All users (admin, auditor)."""
    _show(_call(server, db, token, "list_users"), as_json, ["name", "role", "party", "entitlements", "active", "created_at"])


@user.command("set")
@click.argument("name", callback=_name)
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
@click.argument("name", callback=_name)
@_client_options
@handle_errors
def user_token(name: str, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Reset NAME's credential: its tokens stop working and a new enrolment code is printed once."""
    _show_code(_call(server, db, token, "reset_credential", name=name), as_json)


# ------------------------------------------------------------------------------- policy


@click.group()
def policy() -> None:
    """Regions and the activation states in force."""


@policy.command("regions")
@_client_options
@handle_errors
def policy_regions(server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Regions you may see."""
    _show(_call(server, db, token, "list_regions"), as_json, ["key", "kind", "name", "country", "h3_res", "sensitive", "sensitive_zones_reached", "created_by"])


@policy.command("add-region")
@click.argument("key", callback=_name)
@click.option("--country", help="ISO 3166-1 code or name: a country region.")
@click.option("--geojson", type=click.Path(exists=True, dir_okay=False), help="File with a GeoJSON Polygon/MultiPolygon (or a Feature of one).")
@click.option("--cells", "cells_file", type=click.Path(exists=True, dir_okay=False), help="File of H3 cell ids (hex), one per line.")
@click.option("--name", help="Display name.")
@click.option("--sensitive", is_flag=True, help="Its cells form a sensitive zone: any change reaching them needs two operators.")
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


_BACKDATE = click.option("--backdate", is_flag=True, help="Allow --from in the past (rewrites past policy; recorded in the audit log).")


@policy.command("set")
@click.argument("region", callback=_name)
@click.option("--activate/--deactivate", "active", required=True, help="The state to set.")
@click.option("--reason", required=True, help="Why (recorded in the audit log).")
@click.option("--from", "valid_from", help="Start of validity, ISO-8601 (default: now).")
@click.option("--to", "valid_to", help="End of validity, excluded (default: open).")
@_BACKDATE
@_client_options
@handle_errors
def policy_set(region: str, active: bool, reason: str, valid_from: str | None, valid_to: str | None, backdate: bool,
               server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Set REGION's state directly (operator; changes reaching a sensitive zone need an approved request)."""
    _show(_call(server, db, token, "set_state", region=region, active=active, reason=reason, valid_from=valid_from, valid_to=valid_to, backdate=backdate), True)


# ------------------------------------------------------------------------------- requests


@click.group()
def request() -> None:
    """Activation requests: file, list, approve, reject, withdraw."""


_REQ_COLS = ["id", "region", "action", "state", "filed_by", "party", "on_behalf_of", "valid_from", "valid_to", "approvals_needed", "policy_state_id"]


@request.command("file")
@click.argument("region", callback=_name)
@click.option("--action", required=True, type=click.Choice(["activate", "deactivate"]))
@click.option("--justification", required=True, help="Why the change is asked for.")
@click.option("--on-behalf-of", help="The party the request is filed for.")
@click.option("--from", "valid_from", help="Start of validity, ISO-8601 (default: when approved).")
@click.option("--to", "valid_to", help="End of validity, excluded.")
@_BACKDATE
@_client_options
@handle_errors
def request_file(region: str, action: str, justification: str, on_behalf_of: str | None, valid_from: str | None, valid_to: str | None, backdate: bool,
                 server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """File a request for REGION (partner, operator)."""
    _show(_call(server, db, token, "file_request", region=region, action=action, justification=justification, on_behalf_of=on_behalf_of,
                valid_from=valid_from, valid_to=valid_to, backdate=backdate), True)


@request.command("list")
@click.option("--state", type=click.Choice(["pending", "approved", "rejected", "withdrawn"]))
@click.option("--region", callback=_name)
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
        _show(_call(server, db, token, decision, request_id=request_id, reason=reason), True)

    cmd.__doc__ = doc
    return click.command(decision)(cmd)


request.add_command(_decision_command("approve", "Approve a pending request (confirmed operator; not your own; changes reaching a sensitive zone need two)."))
request.add_command(_decision_command("reject", "Reject a pending request (operator)."))
request.add_command(_decision_command("withdraw", "Withdraw a pending request you filed."))


# ------------------------------------------------------------------------------- audit


@click.group()
def audit() -> None:
    """The hash-chained audit log: verify, export, list (auditor)."""


@audit.command("verify")
@click.option("--expect-head", help="Head hash recorded earlier elsewhere: also detects a rewritten log.")
@click.option("--checkpoints", "checkpoints", type=click.Path(dir_okay=False), help="Signed checkpoints (`leonet audit checkpoint`): detects a rewritten or cut log.")
@click.option("--public-key", help="Pin the checkpoints' signer: 64 hex digits or the key file (default: the first checkpoint's key).")
@click.option("--signer", help="The writers' public key (64 hex digits or the key file): every entry since its first must carry its signature.")
@_client_options
@handle_errors
def audit_verify(expect_head: str | None, checkpoints: str | None, public_key: str | None, signer: str | None, server: str | None, db: str | None,
                 token: str | None, as_json: bool) -> None:
    """Check the chain, replay it against the tables (naming the first disagreement) and, with
    --checkpoints, against signed checkpoints; exits 1 if anything is wrong.
    With --db the database holder checks it (no token used); with --server, an auditor's token."""
    from leonet.control.client import connect

    # With --db the database holder verifies (no token needed, nothing recorded); a server needs an auditor's token.
    client = connect(server, db, token if server else None, token_optional=True)
    try:
        from leonet.control import checkpoint as cp_mod

        signer_hex = cp_mod.public_hex(cp_mod.load_public(signer)) if signer else None
        out = client.call("audit_verify", expect_head=expect_head, signer=signer_hex)
        if checkpoints and out["ok"]:
            from leonet.control import checkpoint

            def hash_at(seq: int) -> str | None:
                got = client.call("audit_entries", after=seq - 1, limit=1) if server else _entry_as_holder(db, seq)
                return got[0]["hash"] if got and got[0]["seq"] == seq else None

            res = checkpoint.check(checkpoints, {"seq": out["head_seq"], "store_id": out["store_id"]}, hash_at, public_key)
            out |= {"checkpoints": res.checkpoints}
            if not res.ok:
                out |= {"ok": False, "first_bad": None, "problem": res.problem}
    finally:
        client.close()
    if as_json:
        _show(out, True)
    elif out["ok"]:
        cps = f"; matches {out['checkpoints']} signed checkpoint(s)" if out.get("checkpoints") else ""
        out_console.print(f"audit chain intact and every table matches its replay: {out['entries']} entries, head {out['head_seq']} hash {out['head_hash']}{cps}",
                          highlight=False)
    else:
        say(("audit chain broken", "bold red"), f" at entry {out['first_bad']}: {out['problem']}")
    if not out["ok"]:
        raise SystemExit(1)


def _entry_as_holder(db: str | None, seq: int) -> list[dict[str, Any]]:
    """One audit entry read straight from the database (the holder verifying without a token)."""
    from leonet.control import audit as audit_mod
    from leonet.control.db import make_engine, read_tx

    if not db:
        raise InputError("checking checkpoints through --server needs a token (auditor)")
    engine = make_engine(db)
    try:
        with read_tx(engine) as conn:
            return [audit_mod.entry_dict(r) for r in audit_mod.iter_entries(conn, seq - 1, 1)]
    finally:
        engine.dispose()


@audit.command("keygen")
@click.option("--key", required=True, type=click.Path(dir_okay=False), help="New private key file (mode 0600); keep it off the database host.")
@handle_errors
def audit_keygen(key: str) -> None:
    """Create an Ed25519 key (checkpoints, or the writers' audit key); prints its public key (pin it when verifying)."""
    from leonet.control import checkpoint

    pub = checkpoint.generate_key(key)
    err_console.print(f"wrote {key}; public key (give it to verifiers as --public-key):")
    click.echo(pub)


@audit.command("checkpoint")
@click.option("--key", envvar="LEONET_CHECKPOINT_KEY", required=True, type=click.Path(dir_okay=False), help="Ed25519 key file (or $LEONET_CHECKPOINT_KEY).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="JSON Lines file the checkpoint is appended to (keep it elsewhere).")
@_client_options
@handle_errors
def audit_checkpoint(key: str, output: str, server: str | None, db: str | None, token: str | None, as_json: bool) -> None:
    """Sign the chain head with KEY and append the checkpoint to OUTPUT (auditor)."""
    from leonet.control import checkpoint

    k = checkpoint.load_private(key)
    cp = checkpoint.sign(_call(server, db, token, "audit_head"), k)
    checkpoint.append(output, cp)
    if as_json:
        _show(cp, True)
    else:
        err_console.print(f"checkpoint of entry {cp['seq']} (hash {cp['hash'][:12]}...) appended to {output}", highlight=False)


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
