"""The tests of one undisturbed run of the payment-breach flow (``clean_run``), started once for the package."""
