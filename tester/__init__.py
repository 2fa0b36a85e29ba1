"""The tracing-validated end-to-end harness. It never imports the system."""
