"""Foundations every layer uses: checks and errors, files and workdirs, logs and progress, images and figures, statistics, provenance."""
