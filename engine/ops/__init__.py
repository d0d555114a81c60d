"""What the engine says outside the terminal: alerts, notifications, the outside watcher, systemd's notify protocol."""
