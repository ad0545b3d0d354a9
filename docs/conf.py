"""Sphinx configuration of the documentation site.

    python -m pip install ".[docs]"
    python -m sphinx -W --keep-going -b html docs builddir-docs/html

Sphinx because the API reference comes from the numpydoc docstrings the
package already has (autodoc + napoleon read them as they are, and Sphinx is
what numpy, scipy and scikit-image document with), and MyST because the pages
are the same Markdown files that GitHub shows: docs/*.md, README.md and
CHANGELOG.md are not copied or converted. The pages' examples run as tests
(tests/test_docs_examples.py and the page-specific tests it names).
"""

from __future__ import annotations

import multiclass_rle

project = "multiclass-rle"
author = "multiclass-rle maintainers"
copyright = "multiclass-rle maintainers, MIT licence"
release = multiclass_rle.__version__   # meson.build's version, through the installed package
version = release

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
root_doc = "index"

# Markdown: GitHub-style heading anchors (the pages link to #410-decoding-speed etc.)
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence"]

# API reference: numpydoc sections, signatures as written, members in source order
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# "dtype" in a parameter type is numpy's, not the attribute of Runs or BytesInfo
napoleon_preprocess_types = True
napoleon_type_aliases = {"dtype": "numpy.dtype"}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_preserve_defaults = True

html_theme = "furo"
html_title = f"multiclass-rle {release}"
html_show_sourcelink = False
