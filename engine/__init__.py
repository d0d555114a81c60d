"""The Foresight engine: the state-holding process. It never imports the TUI."""
