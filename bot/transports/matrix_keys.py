"""Where the Matrix transport keeps its state in the key-value table.

Separate from `matrix.py` so that `petition-bot check` can find a stored session
without importing matrix-nio.
"""

SESSION_KEY = "matrix:session:{user}"
SYNC_KEY = "matrix:next_batch:{user}"
OFFER_KEY = "matrix:choices:{room}"
HANDLED_KEY = "matrix:handled:{user}"
