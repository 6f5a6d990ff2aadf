"""The one error `webrana` reports as a sentence and exit code 1, without a traceback."""


class FleetError(Exception):
    pass
