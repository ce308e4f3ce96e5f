"""Qt-free undo history: region diffs, edit commands, History."""
