"""The ``leonet`` command line."""
