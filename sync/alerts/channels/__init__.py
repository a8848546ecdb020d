"""Delivery channels: each a small module with `send(delivery, alert, recipient)`.

A channel raises DeliveryFailed when the message did not get through; the outbox retries it.
`immediate` channels deliver by being stored (the in-app inbox): their deliveries are written
already delivered.

The failure they raise is in base.py; configured.py builds the configured set.
"""
