"""Reports: HTML pages with maps and plots, written from results (never computing them)."""
