"""Where the CLI finds a stack: its name, and the AWS endpoint (a deployed stack's, or the local one).

``LOCAL_PORT`` is the one default port both sides use: ``python -m sandbox serve`` listens on it and
``contact-jobs --local`` connects to it.
"""

LOCAL_PORT = 5566
LOCAL_HOST = "127.0.0.1"
LOCAL_ENDPOINT = f"http://{LOCAL_HOST}:{LOCAL_PORT}"
DEFAULT_STACK = "contact-jobs"
ENDPOINT_ENV = "CONTACT_JOBS_ENDPOINT_URL"
