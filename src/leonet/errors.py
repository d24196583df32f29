"""Exception types. Every error message says what was wrong and how to fix it."""


class LeonetError(Exception):
    """Base class for errors meant to be shown to the user as they are."""


class InputError(LeonetError, ValueError):
    """Bad user input: a malformed time, option, file or record."""


class DataNotFoundError(LeonetError, FileNotFoundError):
    """A data file or folder the job needs is missing."""


class FetchError(LeonetError):
    """Downloading element sets failed after all retries."""
