"""The photo canvas: cached display images, layer overlays and the zoom/pan view."""
