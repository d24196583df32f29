"""Ground stage: country borders, user regions and H3 service cells.

See :mod:`leonet.ground.borders` (countries, user GeoJSON regions, point -> country) and
:mod:`leonet.ground.cells` (H3 cells of a region, cell centres and boundaries).
"""
