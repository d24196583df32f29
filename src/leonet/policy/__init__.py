"""Policy: which regions the operator activates, when (the control plane builds on this)."""

from leonet.policy.model import Region, Rule, ServicePolicy

__all__ = ["Region", "Rule", "ServicePolicy"]
