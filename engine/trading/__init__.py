"""Trading state: the slots, the trader, the state and its journal, the ledger and the risk limits."""
