"""The contract carried across hosts: the NATS key layout, its envelopes, the connection, and the
compare-and-set writer and mirror that operators' tools use (the bridge is engine/fleet/bridge.py)."""
