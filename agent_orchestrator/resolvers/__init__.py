"""Query, Mutation and Subscription roots.

Each resolver checks rights, calls a service and maps the answer to types.
"""
