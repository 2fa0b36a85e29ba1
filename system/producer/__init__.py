"""A producer process: asks an LLM for attributes and sends batches to the orchestrator."""
