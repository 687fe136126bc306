"""The tests of the five-province agreement year (``year_run``), run once for the package."""
