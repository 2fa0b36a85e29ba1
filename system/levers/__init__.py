"""The efficiency levers: one module (or sub-package) each, holding both its sides.

What the orchestrator decides is a ``Lever`` (``base``), registered in
``registry.LEVERS``; what the producer applies sits beside it and is
composed by ``producer.ProducerLevers``. This package imports nothing, so a
producer loads only the producer pieces it uses.
"""
