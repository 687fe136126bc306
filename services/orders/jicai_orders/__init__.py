"""Orders service (订单): acceptances pushed by hospital HIS (验收) and distributors' invoices (收到发票)."""
