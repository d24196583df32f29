"""Long windows and sweeps as partitioned, resumable runs, in process or on Dask (see
:mod:`leonet.scale.run`; layout on disk in :mod:`leonet.scale.dataset`)."""
