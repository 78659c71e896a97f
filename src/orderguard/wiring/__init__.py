"""Parts the composition root (``orderguard.app``) wires between stages: sinks, the order book,
the sealed execution path and the case desk the interfaces use."""
