"""Pure domain logic of the settlement service: no I/O imports here."""
