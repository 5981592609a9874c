"""Signal receivers: turn domain events into Notification rows (the outbox)."""
