"""The demo company: one description of its world that the billing seed, the mapping tables in
`mappings/` and the sandbox's Exact master data all agree on."""
