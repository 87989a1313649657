"""Errors a person reads: one line saying what went wrong and what to do. Exit codes: 1 when the job failed
or the command could not do its work (credentials, stack, endpoint), 2 for a usage error (an option, a file
that is not CSV, a provider the stack does not deploy, a job or backup that does not exist)."""

FAILED = 1
USAGE = 2


class CliError(Exception):
    def __init__(self, kind: str, message: str, exit_code: int = FAILED) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.exit_code = exit_code

    def document(self) -> dict[str, dict[str, str]]:
        return {"error": {"type": self.kind, "message": self.message}}
