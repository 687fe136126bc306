"""The sections of a regional policy profile (``jicai_policy.profiles.PolicyProfile``), by the rules they parameterise."""
