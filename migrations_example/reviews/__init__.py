"""The ``reviews`` app of the example project: readers' reviews of the catalogue's books."""
