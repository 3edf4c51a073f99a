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
