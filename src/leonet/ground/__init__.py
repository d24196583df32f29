"""Ground stage: what is on the Earth's surface.

:mod:`.points` (:class:`~leonet.ground.points.GroundPoints`, the one row-major type for
positions on the ground, held by every stage's own ground objects),
:mod:`.borders` (countries, user GeoJSON regions, point -> country), :mod:`.regions` (a
:class:`~leonet.ground.regions.Region`: a country, polygon or cell set), :mod:`.cells` (H3
cells of a region, cell centres and boundaries), :mod:`.population` (the GPWv4 grid per point,
cell and polygon), :mod:`.cities` (place names and LAT,LON text) and :mod:`.gateways`
(gateway and PoP lists: reference files, generic CSV/JSON, the packaged default).
"""
