"""The output folder and what is remembered beside it: atomic replacement and comparison
(``output``), the rendered units kept between runs (``unit_cache``), the user's cache folder and
the digest of what a render's bytes depend on (``fingerprint``)."""
