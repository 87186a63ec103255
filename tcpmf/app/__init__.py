"""Widgets for notebooks and the Voila app.

A cold app start imports altair, which imports jsonschema, which imports ``rfc3987_syntax`` when it
is installed (the ``format-nongpl`` extra Jupyter's event schemas pull in): that package compiles
its grammar at import, about a third of the app's start-up, for IRI format checks that tcpmf never
asks for.  The widget modules therefore mark it absent (only when nothing has imported it yet), so
jsonschema skips its optional ``iri`` format check in this process.
"""

import sys

if "rfc3987_syntax" not in sys.modules and "jsonschema" not in sys.modules:
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
