"""contact-jobs: the operator's command line for a deployed contact-jobs stack, or the local one."""
