"""`python -m spark_lsp`: the same as the `spark-lsp` command."""

import sys

from spark_lsp.cli import main

sys.exit(main())
