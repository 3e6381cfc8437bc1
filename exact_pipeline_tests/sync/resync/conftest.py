"""The payment tests' fixtures, reused: billing payments, `PaymentSync`s, and a bookkeeper
working in Exact with a session of their own."""

from exact_pipeline_tests.sync.payments.conftest import bookkeeper, make_payments, payments

__all__ = ["bookkeeper", "make_payments", "payments"]
