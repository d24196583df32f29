"""leonet: a digital twin of Starlink-scale satellite constellations.

The package is split into pipeline stages that data flows through one way:
``sources`` (element sets, filed shells) -> ``orbits`` (SGP4, frames, look angles)
-> ``ground`` / ``coverage`` -> ``policy`` -> ``network`` -> ``reports`` and the CLI.
"""

from leonet.sources.constellation import Constellation
from leonet.times import TimeGrid, parse_duration, parse_time

__all__ = ["Constellation", "TimeGrid", "parse_duration", "parse_time", "__version__"]
__version__ = "0.1.0"
