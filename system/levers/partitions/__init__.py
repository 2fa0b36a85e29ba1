"""The partitions lever: the topic space split among producers.

``manager`` decides the partitions and who works on which (orchestrator),
``match`` says which attributes fit a label (orchestrator, producer and the
simulated LLM read labels alike), ``lever`` is the ``Lever`` that turns the
manager's decisions into updates and ``topic.run`` events.
"""
