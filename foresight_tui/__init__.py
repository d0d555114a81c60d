"""Foresight Mission Control: the operator's TUI. It reads status.json and writes control.json, nothing else."""
