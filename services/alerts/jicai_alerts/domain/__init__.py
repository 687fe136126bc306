"""Pure domain logic of the alerts service: no I/O imports here."""
