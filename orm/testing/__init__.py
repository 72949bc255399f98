"""Testing helpers for projects that use `orm`: pytest fixtures."""
