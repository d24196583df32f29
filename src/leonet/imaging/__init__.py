"""Imaging satellites following ground targets.

:mod:`.targets` (points, tracks, areas), :mod:`.access` (sensors and access windows),
:mod:`.sun` (the Sun's elevation for optical sensors), :mod:`.fom` (figures of merit, STK
conventions), :mod:`.downlink` (age of data, direct or over lasers), :mod:`.summary`
(per-target rows) and :mod:`.track` (all of it in one call, as ``leonet track`` runs it)."""
