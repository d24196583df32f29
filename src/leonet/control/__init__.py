"""The operator's control plane: regions, activation states, requests and approvals, roles,
and a tamper-evident, hash-chained audit log, kept in SQLite or PostgreSQL and served over a
REST API (``leonet serve``) or used directly (``--db URL``).

Modules: :mod:`.db` (schema, engines, write transactions), :mod:`.audit` (the hash chain),
:mod:`.service` (every operation, authorised by role), :mod:`.api` (FastAPI app),
:mod:`.client` (the CLI's client), :mod:`.policy` (:func:`load_policy` for the twin).
"""

from leonet.control.policy import load_policy

__all__ = ["load_policy"]
