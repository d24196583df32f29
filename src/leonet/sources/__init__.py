"""Sources: element sets (TLE; OMM as JSON, XML or CSV; URLs and CelesTrak groups, cached) and
filed Walker shells, loaded into a :class:`~leonet.sources.constellation.Constellation`
(:func:`leonet.sources.load.load`) with a report of every record rejected, duplicated or
repaired; :mod:`.inventory` summarises what a load holds."""
