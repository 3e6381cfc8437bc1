"""Webhooks from Exact: the small HTTP endpoint that receives them (`server`), the subscriptions
of the mapped divisions (`subscriptions`) and the `exact-pipeline webhooks` command (`cli`).
What happens to a stored event is the `exact_payment_events` sensor's (defs/payments/)."""
