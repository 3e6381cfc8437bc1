"""The demo company, apart from the product: one description of its world (`catalog`) that
the billing seed (`seed`, with `customers`, `documents` and the PDFs of `pdf`), the mapping
tables in `mappings/` and the sandbox's Exact side (`sandbox_world`) all agree on, and the
launcher behind `exact-pipeline demo`. Nothing in the product imports this package; the demo,
seed, sandbox and bench commands import it when they run."""
