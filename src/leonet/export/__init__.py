"""Exports: results written to files, never computed here.

:mod:`.files` (one table as CSV or Parquet, JSON documents; atomic, to a file or a stream),
:mod:`.states` (propagated states, streamed in satellite blocks), :mod:`.results` (the tables
of coverage, routes and passes, as the CLI writes them and ``to_pandas()`` returns them),
:mod:`.listings` (the CLI's other listings: satellites overhead, access windows) and
:mod:`.tables` (a regional run's tables as Parquet files plus one DuckDB database)."""
