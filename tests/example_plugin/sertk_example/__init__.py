"""An example third-party sertk plugin."""
