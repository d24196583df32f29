"""Coverage stage: satellites in view of ground cells and points, passes, figures of merit, and
regional coverage and service under a policy (:mod:`leonet.coverage.regional`).

Calling this package, ``leonet.coverage(satellites, regions, grid, ...)``, runs the front door
:func:`leonet.api.coverage` (see there).
"""
