"""The town's mechanics: residents and their state, places, social ties, the economy, bookings."""
