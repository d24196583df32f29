"""What every loader produces: parsed elements plus an honest account of what was read."""

from __future__ import annotations

from dataclasses import dataclass, field

from sgp4.api import Satrec


@dataclass(frozen=True)
class Rejection:
    """A record that could not be used: where it was and why."""

    source: str
    line: int  # 1-based line (TLE, CSV) or 1-based record index (JSON, XML)
    reason: str
    text: str = ""

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}"
        return f"{where}: {self.reason}" + (f"\n    {self.text}" if self.text else "")


@dataclass(frozen=True)
class Duplicate:
    """Two records with one catalogue number: the newer epoch was kept."""

    norad_id: int
    kept: str  # "source:line" of the kept record
    dropped: str
    kept_epoch_ns: int
    dropped_epoch_ns: int


@dataclass
class ParsedRecord:
    """One accepted record: the SGP4 model plus metadata not held by ``Satrec``."""

    satrec: Satrec
    name: str
    intl_designator: str  # e.g. '2019-029A' (empty if unknown)
    classification: str
    source: str
    line: int
    line1: str = ""
    line2: str = ""


@dataclass
class LoadReport:
    """Counts of a load: every record is either accepted, rejected or a dropped duplicate."""

    sources: list[str] = field(default_factory=list)
    read: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # "source:line: what was repaired"
    notes: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.read - len(self.rejected) - len(self.duplicates)

    def merge(self, other: LoadReport) -> LoadReport:
        return LoadReport(
            self.sources + other.sources,
            self.read + other.read,
            self.rejected + other.rejected,
            self.duplicates + other.duplicates,
            self.repaired + other.repaired,
            self.notes + other.notes,
        )

    def summary(self) -> str:
        s = (
            f"{self.read} records read, {self.accepted} accepted, {len(self.rejected)} rejected, "
            f"{len(self.duplicates)} duplicates (newest epoch kept)"
        )
        if self.repaired:
            s += f", {len(self.repaired)} checksums repaired"
        return s
