"""`make bench` (bench/run.py) and what only the benchmark server loads (bench.settings)."""
