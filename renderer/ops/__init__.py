"""Day-2 operations (scale, resize, upgrade, restart, backup, restore) as edits of the catalog."""
