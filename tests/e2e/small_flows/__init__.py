"""Short flows whose parties cannot meet (``small_flows``), on one platform started once for the package."""
