"""Units into objects: templates (``templating``), the pure per-unit render (``render``), and the
whole catalog rendered and validated across processes (``build``)."""
