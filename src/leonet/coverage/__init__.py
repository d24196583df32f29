"""Coverage: which satellites can serve which places over time."""
