"""The fleet view: a table of engines (several state directories, or every bridge on a NATS server)."""
