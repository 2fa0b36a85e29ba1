"""The adaptive strategy lever (``--adaptive``): which prompt arm each producer uses.

``arms`` defines the arms (shared: the orchestrator assigns them, the
producer builds its prompt from them), ``obedience`` measures how an answer
obeyed its prompt (producer), ``selector`` measures each arm's yield per
provider and decides (orchestrator), ``lever`` is the ``Lever`` that sends
the decisions as updates and ``topic.run`` events.
"""
