"""The ``polku`` command line."""
