"""TME Monitor application layer (Qt-free): dashboard, demo, command line, cohort runner."""
