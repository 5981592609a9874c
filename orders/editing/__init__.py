"""Staff changes to a placed order: its lines before fulfilment, and goodwill refunds."""
