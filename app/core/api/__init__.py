"""The plumbing of the device APIs (/pos/v1, /sync/v1): typed request models validated into the one error
shape, one error handler and transaction finish per blueprint, and the OpenAPI document generated from the
models the endpoints validate with (DESIGN.md §8: core, so it knows no domain)."""
