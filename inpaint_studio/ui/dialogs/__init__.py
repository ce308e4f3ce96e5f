"""Small dialogs: JPEG quality, unsaved changes, grow/shrink, help."""
