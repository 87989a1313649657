"""contact-jobs: move marketing contacts between S3 and email service providers."""
