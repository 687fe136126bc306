"""Contracts service (合同): parties, winning products, volume contracts."""
