"""Web mode: the orchestrator without ``--topic``, driven over the control channel.

``mode`` serves it (signals, start-up, shutdown), ``control`` is the control
endpoint, ``service`` owns the runs it starts, and ``settings`` is what the
command line hands over. The webserver (``system/webserver/``) is another
process and talks to this package only over the control channel.
"""
