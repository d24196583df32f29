"""Exports: tables (CSV, Parquet) and later DuckDB, CZML, GeoJSON."""
