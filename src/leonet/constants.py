"""Physical and geodetic constants: the one home for every number that describes the Earth.

Two Earth models are in use on purpose. SGP4 element sets are mean elements relative to
**WGS72** (the model they were fitted with), so anything that converts between element sets and
orbits (Walker shells, altitude from mean motion, Hypatia's scenarios) uses WGS72. Positions on
the ground (geodetic coordinates, look angles, elevation masks) use **WGS84**. Great-circle
distances and areas on a sphere use the IUGG mean radius.
"""

from __future__ import annotations

import math

# WGS72, as SGP4 uses it (sgp4.api.WGS72: Vallado's ``getgravconst('wgs72')``).
WGS72_A_KM = 6378.135  # equatorial radius
WGS72_MU_KM3_S2 = 398600.8  # gravitational parameter
WGS72_F = 1.0 / 298.26  # flattening

# WGS84, for positions on the ground.
WGS84_A_KM = 6378.137  # equatorial radius
WGS84_F = 1.0 / 298.257223563  # flattening
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)  # first eccentricity squared
WGS84_B_KM = WGS84_A_KM * (1.0 - WGS84_F)  # polar radius: the smallest geocentric radius
WGS84_MU_KM3_S2 = 398600.4418  # EGM96 / WGS84 gravitational parameter
WGS84_J2 = 1.08262668e-3  # EGM96 / WGS84 second zonal harmonic (oblateness), for secular drift rates

# IUGG mean Earth radius R1 = (2a + b) / 3 of WGS84: the sphere for great circles and areas.
EARTH_MEAN_RADIUS_KM = 6371.0088

# Earth's rotation rate (IERS conventional, rad/s), as in Vallado's teme2ecef.
EARTH_ROTATION_RAD_S = 7.29211514670698e-05

# Speed of light in vacuum, exact (SI).
C_M_S = 299_792_458.0
C_KM_S = C_M_S / 1000.0

# Refractive (group) index of standard single-mode fibre (ITU-T G.652) near 1550 nm, for
# terrestrial comparison paths: light in fibre travels at about c / 1.468, 4.9 us per km.
FIBRE_REFRACTIVE_INDEX = 1.468

DEG = math.pi / 180.0
