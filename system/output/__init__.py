"""The run's files: attributes.txt (one unique attribute per line) and run.json."""

from system.output.attributes_file import AttributesFile
from system.output.attributes_pager import AttributesPager
from system.output.run_summary import write_run_summary

__all__ = ["AttributesFile", "AttributesPager", "write_run_summary"]
