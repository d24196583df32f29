"""Capacity stage: how much bandwidth each cell gets from the satellites in view, under the
gateways' and lasers' limits and a regional policy (:mod:`leonet.capacity.run`); the model's
numbers and their sources (:mod:`leonet.capacity.params`); the allocation kernels
(:mod:`leonet.capacity.allocate`).

Calling this package, ``leonet.capacity(satellites, regions, grid, ...)``, runs the front door
:func:`leonet.api.capacity` (see there).
"""
