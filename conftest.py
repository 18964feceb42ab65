"""pytest collects every ```python block of README.md and docs/*.md as a test, run by Sybil.

How a page is read and run: tests/markdown_pages.py (on sys.path: pyproject's pythonpath).
"""

from markdown_pages import DOC_EXAMPLES

pytest_collect_file = DOC_EXAMPLES.pytest()
