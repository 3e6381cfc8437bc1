"""Know without looking: the alert sensor posts what needs a person to ALERT_WEBHOOK_URL."""
