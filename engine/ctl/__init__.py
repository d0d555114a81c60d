"""`foresight ctl`: the operator's command line, which uses only the control-plane contract (engine.contract)."""
