"""``dbfleet plan``: what a change of the catalog does to the running fleet, rule by rule."""
