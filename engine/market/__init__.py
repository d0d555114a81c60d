"""The market the slots trade: price feeds (simulated, replayed, live), their health, and the paper makers' quotes."""
