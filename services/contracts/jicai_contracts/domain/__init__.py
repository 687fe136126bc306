"""Pure domain logic of the contracts service: no I/O imports here."""
