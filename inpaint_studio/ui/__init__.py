"""The desktop editor (PySide6 QtWidgets). Never imports torch or concrete engines."""
