"""The twin's view of the store: the policy in force at every instant, as a ServicePolicy."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Engine, select

from leonet.control.db import (
    check_initialised,
    make_engine,
    policy_states,
    read_tx,
    regions,
)
from leonet.control.zones import region_of
from leonet.ground.regions import Region
from leonet.policy.model import Rule, ServicePolicy


def load_policy(db_url: str, default: bool | ServicePolicy = True) -> ServicePolicy:
    """The store's activation states as a time-dependent :class:`ServicePolicy`.

    Each activation state becomes a :class:`Rule` ``(region, active, [valid_from, valid_to))``
    in the order the states were created, so a later state overrides an earlier one where
    both apply, as the store itself reads them. ``default`` is the state of cells no state
    covers (True: active everywhere, False: inactive everywhere), or a policy whose default
    and rules come first (the store's rules then take precedence over them).

    Raises :class:`leonet.control.errors.StoreError` when ``db_url`` is no initialised store and
    :class:`leonet.errors.InputError` for a malformed URL.
    """
    engine = make_engine(db_url)
    try:
        check_initialised(engine)
        return policy_from_engine(engine, default)
    finally:
        engine.dispose()


def policy_from_engine(engine: Engine, default: bool | ServicePolicy = True, visible: Collection[str] | None = None) -> ServicePolicy:
    """:func:`load_policy` over an open engine (a running server's); ``visible``: the region keys
    whose states apply (None: all), so that a partner's view holds only its entitled regions."""
    with read_tx(engine) as conn:
        region_rows = {r.id: r for r in conn.execute(select(regions))}
        state_rows = conn.execute(select(policy_states).order_by(policy_states.c.id)).all()
    if visible is not None:
        keep = set(visible)
        state_rows = [s for s in state_rows if region_rows[s.region_id].key in keep]
    built: dict[int, Region] = {}
    rules = []
    for s in state_rows:
        if s.region_id not in built:
            built[s.region_id] = region_of(region_rows[s.region_id])
        rules.append(Rule(built[s.region_id], bool(s.active), s.valid_from, s.valid_to))
    if isinstance(default, ServicePolicy):
        base_active, base_rules, base_name = default.default_active, default.rules, default.name
    else:
        base_active, base_rules, base_name = bool(default), (), "active everywhere" if default else "inactive everywhere"
    return ServicePolicy(base_active, tuple(base_rules) + tuple(rules), f"{base_name}; {len(rules)} states from the control store")
