"""The vocabulary every other package speaks: ids, enums, the workflow graph and its
validator, the error tree and the Protocols that concrete parts plug into.

Nothing here imports another package of ours; pydantic is the only third-party import.
"""
