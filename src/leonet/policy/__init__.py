"""Policy: rules over ground regions saying which the operator activates, when (the control
plane builds on this). Regions themselves are ground: :mod:`leonet.ground.regions`."""

from leonet.policy.model import Rule, ServicePolicy

__all__ = ["Rule", "ServicePolicy"]
