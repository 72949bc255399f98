"""The connection core: the vendor-neutral wrapper (``wrapper``), connections per
alias and thread (``connections``), the cursor wrapper with the one
error-translation boundary (``cursor``, ``errors``), the transaction state and
``atomic()`` (``transaction_state``, ``transaction``), and scopes."""
