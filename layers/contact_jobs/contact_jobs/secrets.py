"""API keys from Secrets Manager, cached across warm invocations by Powertools Parameters."""

from aws_lambda_powertools.utilities import parameters

from contact_jobs.errors import ConfigurationError

SECRET_CACHE_SECONDS = 300  # a rotated key is picked up within five minutes


def api_key(secret_id: str) -> str:
    """The API key stored as the secret's string value (never logged, never returned)."""
    value = parameters.get_secret(secret_id, max_age=SECRET_CACHE_SECONDS)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"secret {secret_id} has no string value")
    return value.strip()
