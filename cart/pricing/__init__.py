"""Pricing data the cart prices itself with: shipping zones, methods and rate bands.

It lives in the cart app (not orders) because the cart shows shipping before an order exists
and must not import orders (layering: orders > cart); checkout reads the same rules.
"""
