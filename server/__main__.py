"""`python -m server ...` is the same as the `fieldsync` command."""
from server.cli import main

main()
