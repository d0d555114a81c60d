"""The engine side of the strategy API: what a strategy sees (the market view) and the parameters it declares."""
