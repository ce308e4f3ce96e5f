"""Dock panels: engine, history, layers."""
