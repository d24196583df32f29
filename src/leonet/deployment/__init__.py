"""Constellation deployment: the launch table from international designators
(:mod:`leonet.deployment.table`) and launch batches raising to their shell
(:mod:`leonet.deployment.batch`)."""
