"""Background work for the GUI: the only place threads meet Qt (QtCore only)."""
