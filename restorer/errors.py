"""The RestorerError family.

`str(error)` is always one sentence a user can act on: what happened, naming
the file, then what to do. Library code raises these; only the CLI turns them
into exit codes and only the GUI into message boxes.
"""


class RestorerError(Exception):
    """Base of every error Restorer reports to a user."""


class UnreadablePhoto(RestorerError):
    """A file could not be read as a photo."""


class UnwritableOutput(RestorerError):
    """A result could not be written."""


class DiskFull(UnwritableOutput):
    """A result could not be written because its disk (or the user's quota there) is full: every file after
    it would fail the same way, so a batch stops instead of restoring photos it cannot keep."""


def unwritable(path, exc: OSError) -> UnwritableOutput:
    """The error for an OSError raised while writing `path`: DiskFull when there is no room left."""
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(f"{path} could not be written: the disk holding it is full.")
    return UnwritableOutput(f"{path} could not be written ({exc.strerror or exc}).")


class BadMask(RestorerError):
    """A mask file is missing, unreadable or does not fit the photo."""


class RecipeError(RestorerError):
    """A recipe, preset or setting is invalid."""


class ModelFormatError(RestorerError):
    """A weights file is not in a format or shape Restorer understands."""


class ModelUnavailable(RestorerError):
    """A model's weights are not installed and cannot be fetched now."""


class Cancelled(RestorerError):
    """The user cancelled a run."""
