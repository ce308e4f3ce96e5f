"""Fill engines. Concrete engines (and torch) are imported lazily via the registry."""
