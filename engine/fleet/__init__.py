"""The fleet: engines on several hosts carried over NATS JetStream key-value buckets (docs/fleet.md)."""
