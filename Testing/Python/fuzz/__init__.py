"""Reader fuzz suite: seeds (valid files), mutations (seeded, deterministic) and a classifier."""
