import sys

from system.producer.cli import main

sys.exit(main())
