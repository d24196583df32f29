"""Sources: element sets (TLE, OMM, CelesTrak) and filed Walker shells."""
