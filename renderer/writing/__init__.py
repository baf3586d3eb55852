"""The output folder and what is remembered beside it: atomic replacement and comparison
(``output``), the user's cache folder (``cache``) and the digest of what a render's bytes depend
on, which lets ``render --check`` skip rendering (``fingerprint``)."""
