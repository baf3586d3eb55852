"""Units into objects: templates (``templating``), the pure per-unit render (``render``), the
whole catalog rendered and validated across processes (``build``), and the units rendered and
validated before, kept between runs (``unit_cache``)."""
