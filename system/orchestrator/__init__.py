"""The orchestrator: runs producers, deduplicates, writes the output."""
