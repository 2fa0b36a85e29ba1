import sys

from system.webserver.cli import main

sys.exit(main())
