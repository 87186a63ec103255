"""The engines: scenarios as arrays, the consumer engine, deals, MaaS, routing, capacity, results."""
