"""The use cases GraphQL, REST, the CLI and the copilot share.

Each use case takes the `Caller` (who, over which transport, from where), checks the
caller's role against the one permission table (`security.permissions`), does the work
through the store, the engine or the planner, and writes its audit entry once: in the
same transaction as the change where the store allows it. Refusals leave an entry too
(``result: denied`` with the reason): a role that is too low (FORBIDDEN) and an id the
caller's tenant does not have (NOT_FOUND, another tenant's ids included).

Transports stay thin: they parse their input, build the `Caller`, call a use case and
map the answer or the error. `Services` (made by `app.open_services`) holds them all.
"""
