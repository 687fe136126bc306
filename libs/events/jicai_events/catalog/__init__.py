"""Every integration event, grouped by the service that owns the fact.

Importing this package registers all of them in ``event_registry``.
"""
from jicai_events.catalog.alerts import (
    NonWinningPurchaseCapExceeded,
    PaymentDeadlineSet,
    PaymentOverdueWarned,
    SettlementReleased,
    SettlementResumed,
    SettlementSuspended,
    SettlementWithheld,
    VolumeCompletionWarned,
    VolumeExemptionGranted,
    VolumeExemptionRevoked,
)
from jicai_events.catalog.clock import DayClosed
from jicai_events.catalog.contracts import (
    ContractSigned,
    DistributorRegistered,
    GenericGroupDefined,
    InstitutionRegistered,
    ManufacturerRegistered,
    NonWinningProductListed,
    WinningProductListed,
)
from jicai_events.catalog.orders import DeliveryAccepted, InvoiceLine, InvoiceReceived, PurchaseRecorded
from jicai_events.catalog.settlement import (
    MonthlySettlementReported,
    PaymentAllocation,
    PaymentRecorded,
)

__all__ = [
    "ContractSigned",
    "DayClosed",
    "DeliveryAccepted",
    "DistributorRegistered",
    "GenericGroupDefined",
    "InstitutionRegistered",
    "InvoiceLine",
    "InvoiceReceived",
    "ManufacturerRegistered",
    "MonthlySettlementReported",
    "NonWinningProductListed",
    "NonWinningPurchaseCapExceeded",
    "PaymentAllocation",
    "PaymentDeadlineSet",
    "PaymentOverdueWarned",
    "PaymentRecorded",
    "PurchaseRecorded",
    "SettlementReleased",
    "SettlementResumed",
    "SettlementSuspended",
    "SettlementWithheld",
    "VolumeCompletionWarned",
    "VolumeExemptionGranted",
    "VolumeExemptionRevoked",
    "WinningProductListed",
]
