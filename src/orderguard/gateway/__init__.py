"""The order path's controls: one check per order (authorize, SoD, approvals, venue, pre-clearance),
the gate that audits the decision before saying go, need-to-know reads and pre-clearance."""
