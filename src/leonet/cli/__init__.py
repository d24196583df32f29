"""The ``leonet`` command line: each command parses its options, calls one library function,
prints with rich and writes files through :mod:`leonet.export`. The only package that prints."""
