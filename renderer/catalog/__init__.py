"""Reading the input: the catalog's and overlays' files, YAML with the place of every value, the
catalog's schema, and each environment's resolved specification (``load``, ``reading``)."""
