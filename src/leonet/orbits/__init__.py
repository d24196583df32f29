"""Orbits: vectorised SGP4, TEME -> ITRF -> geodetic frames and look angles, Earth orientation,
and the :class:`~leonet.orbits.satellites.Satellites` interface every stage takes.

Kernels here take and return arrays with documented shapes (``(sats, times, 3)`` in km and
km/s); they know nothing of files or the CLI.
"""
