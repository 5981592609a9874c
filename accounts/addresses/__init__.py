"""One definition of a postal address, used by the address book and the checkout alike.

- ``rules``: the fields with their limits, the one country rule (ISO 3166-1 alpha-2 codes,
  from django-countries) and ``clean_address`` for services that take an address as a dict.
- ``forms``: the one HTML form (the country is a ``<select>`` of names, the shop's shipping
  countries first).
- ``serializers``: the one API shape (the address book's entries and the checkout's
  ``shipping_address``).
"""
