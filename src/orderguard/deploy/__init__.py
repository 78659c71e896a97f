"""The deploy gate: a change may deploy only with owner approvals from people who did not write it."""
