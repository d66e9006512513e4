"""One module per CLI command; each ``run`` returns the process exit code."""
