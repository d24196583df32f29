"""The browser face of the twin: ``leonet serve``'s dashboard (globe, service map, operator
console, routes, scenario results) over the control-plane app. See :mod:`leonet.web.app`."""
