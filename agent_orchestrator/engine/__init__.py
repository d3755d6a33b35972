"""The workflow engine: pure AnyIO.

It is handed a `RunStore`, an `AgentCatalogue` and an `EventSink` through `core`
Protocols and knows nothing of HTTP, GraphQL or SQL.
"""
