"""Which file suffixes Restorer reads, and which image formats it knows it cannot read.

Standard library only: the window builds its Open dialog's filter from these at start-up, and must
not pull in OpenCV or Pillow's decoders to do it (restorer.imaging does the reading).
"""

from __future__ import annotations

# HEIF: what phones save (through pillow-heif; .hif is Fujifilm's name for it).
HEIF_SUFFIXES = {".heic", ".heif", ".hif"}
# JPEG 2000, which libraries and archives keep their masters in (Pillow's OpenJPEG; OpenCV's where the
# samples are deeper than 8 bits).
JPEG2000_SUFFIXES = {".jp2", ".j2k", ".jpf", ".jpx"}
# Photoshop: the flattened picture, 8 or 16 bits, grey or RGB (Pillow; restorer.psd for 16 bits and PSB).
PHOTOSHOP_SUFFIXES = {".psd", ".psb"}
# AVIF through Pillow's own decoder (11.3 and later).
READABLE_SUFFIXES = ({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp", ".gif", ".avif"} | HEIF_SUFFIXES
                     | JPEG2000_SUFFIXES | PHOTOSHOP_SUFFIXES)
# Camera raw. Many are TIFF inside (DNG, NEF, CR2, ARW...), whose first image is a small preview:
# opened as TIFFs they would "restore" the thumbnail. They get one sentence saying what to do.
CAMERA_RAW_SUFFIXES = {".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".orf", ".rw2",
                       ".raf", ".pef", ".srw", ".x3f", ".3fr", ".iiq", ".erf", ".mrw", ".raw"}
# Formats scans and photos are kept in that Restorer does not read. Named on their own they get a
# sentence saying what to do; found in a folder, they are named in the batch's summary and report, so
# an archivist learns that the camera-raw half of a folder was left out instead of finding out months
# later. Other files (notes, spreadsheets, sidecars) are simply not photos.
UNREADABLE_IMAGE_SUFFIXES = CAMERA_RAW_SUFFIXES | {".jxl", ".xcf", ".exr", ".hdr", ".svg", ".eps",
                                                   ".pdf"}
