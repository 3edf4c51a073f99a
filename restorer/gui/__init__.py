"""The Qt window. Nothing here imports torch; only gui/worker.py reaches the pipeline, in its thread."""
