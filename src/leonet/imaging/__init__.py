"""Imaging satellites following ground targets: sensors, targets, access windows, figures of
merit (STK conventions) and age of data. See :mod:`leonet.imaging.access`."""
