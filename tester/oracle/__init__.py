"""Truth, not consistency: judge the system against what the tester's own model served.

``Oracle`` reads the fake model's ledger (``tester.fake_llm.ledger``), the
spans and the output files; ``secrets.scan`` looks for configured secrets in
everything a constellation left behind. See docs/ARCHITECTURE.md "The oracle".
"""

from tester.oracle.keys import key
from tester.oracle.oracle import Oracle, OracleFailure, describe_entry
from tester.oracle.secrets import assert_no_secrets

__all__ = ["Oracle", "OracleFailure", "assert_no_secrets", "describe_entry", "key"]
