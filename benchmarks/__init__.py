"""Side-by-side measurements: each benchmark runs a baseline and a method in one process."""
