"""What several test directories share: hand-built packages, package edits, fitted pipelines, the
scikit-learn oracle. Imported as ``helpers.<module>`` (pyproject.toml puts tests/ on sys.path)."""
