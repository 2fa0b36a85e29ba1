import sys

from tester.fake_llm.cli import main

sys.exit(main())
