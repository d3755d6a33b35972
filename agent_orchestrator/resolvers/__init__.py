"""Query, Mutation and Subscription roots: check rights, call a service, map to types."""
