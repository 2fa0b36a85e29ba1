"""LLM providers: the simulated test model and (later) OpenAI-compatible endpoints."""
