"""Settlement service (结算): payments to distributors, monthly insurance settlements withheld and released."""
