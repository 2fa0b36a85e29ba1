import sys

from system.orchestrator.cli import main

sys.exit(main())
