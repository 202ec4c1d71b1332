"""Test and benchmark support shipped with the package (importable by tests/ and bench/)."""
