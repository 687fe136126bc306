"""How ``jicai-serve`` and the dev stack find this service (entry point group ``jicai.services``, see ``jicai_kit.services``)."""
from jicai_kit.services import Service

SERVICE = Service(name="orders", package="jicai_orders", local_port=8002)
