import sys

from system.producer.lifeline import die_with_parent

die_with_parent()  # before the heavy imports below: see system/producer/lifeline.py

from system.producer.cli import main  # noqa: E402

sys.exit(main())
