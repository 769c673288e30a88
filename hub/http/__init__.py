"""HTTP-level protections that sit in front of the routes: body size, rate, database outages."""
