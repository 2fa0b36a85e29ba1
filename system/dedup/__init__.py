"""Deduplication: normalization, keys, and the exact index behind a Bloom filter."""
