"""HTML (and markdown) reports built from run folders alone (see docs/run-folder.md)."""

from domainfit.report.html import write_compare_report, write_run_report

__all__ = ["write_compare_report", "write_run_report"]
