"""Constellation deployment: the launch table, snapshot comparison and deployment plot from
international designators (:mod:`leonet.deployment.table`), and launch batches raising to their
shell, usable wherever satellites are taken (:mod:`leonet.deployment.batch`)."""
