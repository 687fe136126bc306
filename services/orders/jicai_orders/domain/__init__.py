"""Pure domain logic of the orders service: no I/O imports here."""
