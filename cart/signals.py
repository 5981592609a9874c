"""The cart app emits no signals (merges and holds are part of the core flow)."""
