"""spark-lsp: a fast code model in every editor."""

__version__ = "0.1.0"
