"""Scripts that produce the files in weights/. The application never imports these."""
