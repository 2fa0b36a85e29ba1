"""The run's files: attributes.txt (one unique attribute per line) and run.json."""

from system.output.attributes_file import AttributesFile
from system.output.attributes_pager import AttributesPager
from system.output.claim import OutputError, OutputLock, check_output_files
from system.output.run_summary import write_run_summary

__all__ = [
    "AttributesFile",
    "AttributesPager",
    "OutputError",
    "OutputLock",
    "check_output_files",
    "write_run_summary",
]
