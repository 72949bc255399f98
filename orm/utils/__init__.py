"""Small helpers with no dependency on the rest of `orm` (but its exceptions)."""
