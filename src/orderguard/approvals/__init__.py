"""Multi-party approval for sensitive actions: requests, quorum, digest binding, expiry, break-glass."""
