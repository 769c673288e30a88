"""The event log (outbox) and what reads it: subscriptions, webhooks, the NATS relay."""
