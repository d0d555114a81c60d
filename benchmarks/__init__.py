"""Speed and memory figures of Foresight Mission Control: `python -m benchmarks` (or `make bench`).

One module per figure; `benchmarks.runner` runs them and writes RESULTS.md and
results.json. See benchmarks/RESULTS.md for the latest figures.
"""
