"""Jicai operations console (运营管理台): the bureau's staff read and act through the four services' public APIs."""
