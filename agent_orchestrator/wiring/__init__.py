"""The composition root: the one place that wires concrete parts into the use cases.

`admin` opens the database and the use cases that need nothing else (quick, for the
CLI's admin commands); `services` opens everything a server or worker runs. Neither
imports HTTP or GraphQL: `app` builds the web application around `services`, and the
CLI uses them without loading the web stack.
"""
