"""make bench: performance figures as JSON lines, each against a baseline measured in the same run."""
