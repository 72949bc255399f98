"""Database backends: a common base and one package per vendor, same file names in each."""
