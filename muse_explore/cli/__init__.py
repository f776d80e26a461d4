"""Command-line entry points (``muse-explore ...``)."""
