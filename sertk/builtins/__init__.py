"""Components shipped with sertk, registered by the core as an ordinary plugin."""
