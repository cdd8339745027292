"""Gate types: one module per type, one Protocol (:mod:`.base`), one registry (:mod:`.registry`)."""
