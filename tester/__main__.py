import sys

from tester.cli import main

sys.exit(main())
