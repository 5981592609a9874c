"""Vocabulary for ``manage.py seed_shop``: categories and the words products are made of."""

# Products go only in leaf categories, and each leaf lists the things that belong in it, each
# with the materials it is really made of: no saucepans under Decor, no leather T-shirts.
#
# (slug, name, description, [(child slug, child name, PRODUCTS)], PRODUCTS, variant axis,
#  price range), where PRODUCTS is {noun: [materials]} (a top level with children has none).
CATEGORIES = [
    (
        "clothing",
        "Clothing",
        "Everyday clothes that last.",
        [
            (
                "tops",
                "Tops",
                {
                    "T-Shirt": ["organic cotton", "cotton", "linen"],
                    "Sweater": ["merino wool", "lambswool", "cotton"],
                    "Hoodie": ["organic cotton", "recycled polyester"],
                    "Shirt": ["cotton poplin", "linen", "flannel"],
                    "Cardigan": ["merino wool", "lambswool"],
                    "Polo": ["cotton piqué", "organic cotton"],
                },
            ),
            (
                "outerwear",
                "Outerwear",
                {
                    "Jacket": ["waxed cotton", "recycled nylon", "denim"],
                    "Parka": ["recycled polyester", "waterproof nylon"],
                    "Rain Coat": ["waterproof nylon", "waxed cotton"],
                    "Fleece": ["recycled polyester"],
                    "Gilet": ["quilted nylon", "wool"],
                },
            ),
        ],
        {},
        ("size", ["S", "M", "L", "XL"]),
        (15, 180),
    ),
    (
        "shoes",
        "Shoes",
        "Footwear for the road, the trail and the office.",
        [
            (
                "running",
                "Running",
                {
                    "Runner": ["recycled mesh", "engineered knit"],
                    "Trail Shoe": ["ripstop mesh", "recycled mesh"],
                    "Racing Flat": ["engineered knit"],
                },
            ),
            (
                "casual",
                "Casual",
                {
                    "Sneaker": ["leather", "canvas", "suede"],
                    "Loafer": ["leather", "suede"],
                    "Boot": ["leather", "suede"],
                    "Sandal": ["leather", "cork"],
                    "Slip-On": ["canvas", "suede"],
                },
            ),
        ],
        {},
        ("size", ["EU 40", "EU 41", "EU 42", "EU 43"]),
        (35, 220),
    ),
    (
        "home-kitchen",
        "Home & Kitchen",
        "Tools and things for a good home.",
        [
            (
                "cookware",
                "Cookware",
                {
                    "Kettle": ["stainless steel", "enamelled steel", "copper"],
                    "Frying Pan": ["cast iron", "carbon steel", "stainless steel"],
                    "Saucepan": ["stainless steel", "copper", "enamelled cast iron"],
                    "Knife Set": ["stainless steel", "carbon steel"],
                    "Casserole Dish": ["enamelled cast iron", "stoneware"],
                    "Mug Set": ["stoneware", "porcelain"],
                },
            ),
            (
                "decor",
                "Decor",
                {
                    "Vase": ["ceramic", "glass", "stoneware"],
                    "Table Lamp": ["brass", "ceramic", "oak"],
                    "Cushion": ["linen", "cotton velvet", "wool"],
                    "Throw": ["wool", "cotton", "linen"],
                    "Candle Holder": ["brass", "glass", "marble"],
                    "Picture Frame": ["oak", "walnut", "brass"],
                },
            ),
        ],
        {},
        ("colour", ["White", "Black", "Sage", "Terracotta"]),
        (12, 160),
    ),
    (
        "electronics",
        "Electronics",
        "Gadgets, audio and the cables to go with them.",
        [
            (
                "audio",
                "Audio",
                {
                    "Headphones": ["aluminium", "recycled plastic"],
                    "Speaker": ["aluminium", "woven fabric"],
                    "Earbuds": ["recycled plastic"],
                    "Soundbar": ["aluminium", "woven fabric"],
                },
            ),
            (
                "accessories",
                "Accessories",
                {
                    "Charger": ["recycled plastic"],
                    "Power Bank": ["aluminium", "recycled plastic"],
                    "USB-C Cable": ["braided nylon"],
                    "Keyboard": ["aluminium", "recycled plastic"],
                    "Phone Stand": ["aluminium", "oak"],
                },
            ),
        ],
        {},
        ("colour", ["Black", "White", "Blue", "Red"]),
        (9, 350),
    ),
    (
        "sports-outdoors",
        "Sports & Outdoors",
        "Gear for camping, hiking and training.",
        [
            (
                "camping",
                "Camping",
                {
                    "Tent": ["ripstop nylon", "polycotton canvas"],
                    "Sleeping Bag": ["recycled polyester", "responsibly sourced down"],
                    "Backpack": ["recycled nylon", "waxed canvas"],
                    "Headlamp": ["aluminium", "recycled plastic"],
                    "Camping Stove": ["stainless steel", "aluminium"],
                },
            ),
            (
                "fitness",
                "Fitness",
                {
                    "Yoga Mat": ["natural rubber", "cork"],
                    "Dumbbell": ["cast iron", "rubber-coated steel"],
                    "Water Bottle": ["stainless steel", "glass"],
                    "Skipping Rope": ["steel cable", "leather"],
                    "Resistance Band": ["natural latex"],
                },
            ),
        ],
        {},
        ("colour", ["Orange", "Green", "Grey", "Navy"]),
        (10, 400),
    ),
    (
        "beauty",
        "Beauty",
        "Skin care and grooming essentials.",
        [],
        {
            "Face Cream": ["shea butter", "aloe vera"],
            "Shampoo": ["argan oil", "oat extract"],
            "Soap Bar": ["olive oil", "goat milk"],
            "Lip Balm": ["beeswax", "shea butter"],
            "Body Lotion": ["shea butter", "cocoa butter"],
            "Beard Oil": ["jojoba oil", "argan oil"],
        },
        ("volume", ["50 ml", "100 ml", "250 ml", "500 ml"]),
        (5, 60),
    ),
    (
        "books",
        "Books",
        "Fiction, cookbooks and field guides.",
        [],
        {
            "Cookbook": ["recycled paper"],
            "Field Guide": ["water-resistant paper"],
            "Novel": ["recycled paper"],
            "Atlas": ["heavyweight paper"],
            "Journal": ["acid-free paper"],
            "Sketchbook": ["heavyweight paper"],
        },
        ("format", ["Paperback", "Hardcover", "Spiral", "Pocket"]),
        (8, 55),
    ),
    (
        "toys-games",
        "Toys & Games",
        "Puzzles, board games and building sets.",
        [],
        {
            "Puzzle": ["recycled cardboard", "birch plywood"],
            "Board Game": ["recycled cardboard"],
            "Building Set": ["beech wood", "recycled plastic"],
            "Card Game": ["linen-finish card"],
            "Kite": ["ripstop nylon"],
            "Marble Run": ["beech wood"],
        },
        ("edition", ["Classic", "Deluxe", "Travel", "Junior"]),
        (7, 120),
    ),
]

BRANDS = [
    "Nordvik",
    "Alder & Oak",
    "Bluefin",
    "Cascade",
    "Driftwood",
    "Ember",
    "Fjell",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
    "Lumo",
    "Meridian",
    "Northline",
    "Orchard",
    "Pebble",
    "Quarry",
    "Redwood",
    "Solstice",
    "Tundra",
    "Umber",
    "Vale",
    "Willow",
]

ADJECTIVES = [
    "Classic",
    "Everyday",
    "Light",
    "Compact",
    "Heritage",
    "Urban",
    "Alpine",
    "Coastal",
    "Essential",
    "Premium",
    "Studio",
    "Field",
    "Weekend",
    "Pro",
    "Soft",
    "Rugged",
    "Slim",
    "Original",
    "Modern",
    "Vintage",
    "Breeze",
    "Summit",
    "Harbour",
    "Prairie",
]

DESCRIPTION_TEMPLATES = [
    "The {name} is made from {material} and built for daily use. {brand} designs it to be "
    "repaired rather than replaced.",
    "A {adjective_lower} take on the {noun_lower}: {material}, carefully finished, and backed "
    "by a two-year warranty from {brand}.",
    "{brand}'s {noun_lower} in {material}. Thoughtful details, honest materials and a price "
    "that makes sense.",
]

PALETTE = [
    (0x2E, 0x86, 0xAB),
    (0xA2, 0x3B, 0x72),
    (0xF1, 0x8F, 0x01),
    (0xC7, 0x3E, 0x1D),
    (0x3B, 0x1F, 0x2B),
    (0x44, 0x8C, 0x5A),
    (0x6C, 0x5B, 0x7B),
    (0x35, 0x5C, 0x7D),
    (0xC0, 0x6C, 0x84),
    (0x2A, 0x9D, 0x8F),
    (0xE7, 0x6F, 0x51),
    (0x26, 0x46, 0x53),
]
