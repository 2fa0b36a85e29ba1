"""The sub-topics lever (``--partition-by subtopics``): partitions an LLM proposes.

``planner`` keeps the rounds of requests (orchestrator), ``propose`` makes
the LLM call and parses the labels (producer), ``lever`` is the ``Lever``
that asks, hands the labels to the partitions lever and falls back.
"""
