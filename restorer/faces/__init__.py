"""Faces: find them (detect.py), keep them the same person when restoring (blend.py), measure that (identity.py)."""
